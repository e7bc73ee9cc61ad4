using System.ComponentModel.DataAnnotations;

namespace MultiModal.Vision;

/// <summary>
/// Service options, section "Vision" (appsettings.json → environment <c>Vision__MaxQueueLength</c> → command line
/// <c>--Vision:MaxQueueLength=</c>). Model hyperparameters are never here: they come from the model folder.
/// </summary>
public sealed class VisionOptions
{
    public const string Section = "Vision";

    /// <summary>"local" (a llava-hf folder run in this process) or "openai" (an OpenAI-compatible chat/completions endpoint).</summary>
    [RegularExpression("^(?i)(local|openai)$")] public string Backend { get; set; } = "local";

    /// <summary>llava-hf folder (config.json, model.safetensors, tokenizer.model, preprocessor_config.json, ...); local backend only.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>Name reported by GetModelInfo; defaults to the folder name (local) or <see cref="VisionOpenAiOptions.Model"/>.</summary>
    public string? ModelName { get; set; }

    /// <summary>auto | cpu | cuda | cuda:N (local backend).</summary>
    public string Device { get; set; } = "auto";

    /// <summary>auto (float32 on CPU, float16 on CUDA) | float32 | float16 | bfloat16 (local backend).</summary>
    public string DType { get; set; } = "auto";

    /// <summary>
    /// Most generations decoded together (local backend): each token of all of them is one forward pass, which reads the
    /// weights once, so decoding is close to N times faster in total until the device runs out of compute or memory
    /// for the KV caches. Further requests wait in the queue.
    /// </summary>
    [Range(1, 256)] public int MaxBatchSize { get; set; } = 8;

    /// <summary>
    /// Most KV-cache positions the running generations may hold together (local backend), each counted at its bound:
    /// prompt (image rows included) + max_tokens. A request that does not fit waits (FIFO) until running ones finish;
    /// one that exceeds it alone runs alone. 0: no bound besides <see cref="MaxBatchSize"/>. Size it to the device
    /// memory left after the weights: the log line "KV cache" at start-up gives the bytes per position.
    /// </summary>
    [Range(0, long.MaxValue)] public long MaxBatchTokens { get; set; }

    /// <summary>
    /// Most prompt positions (image rows included) one prefill runs between two decode steps of the running generations
    /// (local backend). A new request's prefill runs in units of about that much work, one per step: its images through
    /// the vision tower a few layers at a time, then its merged prompt in chunks of this many positions, so a long prompt
    /// delays the others' next token by one unit instead of the whole prefill. Smaller chunks: steadier streams for the others, a little less prefill throughput.
    /// 0: the whole prefill at once, when the request is admitted.
    /// </summary>
    [Range(0, 1_000_000)] public int PrefillChunkTokens { get; set; } = 128;

    /// <summary>Requests allowed to wait while <see cref="MaxBatchSize"/> generate; beyond it calls get RESOURCE_EXHAUSTED (QUEUE_FULL).</summary>
    [Range(1, 100_000)] public int MaxQueueLength { get; set; } = 64;

    /// <summary>Most images in one request (LLaVA-1.5 was trained with one).</summary>
    [Range(1, 16)] public int MaxImages { get; set; } = 1;

    /// <summary>
    /// Most prompt tokens (image rows included) the local backend accepts; 0 means the model's context length minus
    /// one (room for at least one new token). Not enforced for the openai backend, which cannot count them.
    /// </summary>
    [Range(0, 1_000_000)] public int MaxPromptTokens { get; set; }

    /// <summary>Largest max_tokens a request may ask for.</summary>
    [Range(1, 1_000_000)] public int MaxNewTokens { get; set; } = 1024;

    /// <summary>max_tokens when a request leaves it 0.</summary>
    [Range(1, 1_000_000)] public int DefaultMaxTokens { get; set; } = 300;

    /// <summary>Longest prompt accepted, in characters, checked before tokenizing.</summary>
    [Range(1, 10_000_000)] public int MaxPromptChars { get; set; } = 32_768;

    /// <summary>Largest encoded image accepted, in bytes (the gRPC message limit is set separately, see Grpc:MaxReceiveMessageBytes).</summary>
    [Range(1, long.MaxValue)] public long MaxImageBytes { get; set; } = 20L << 20;

    /// <summary>Largest image accepted, width × height read from the header before decoding.</summary>
    [Range(1, long.MaxValue)] public long MaxImagePixels { get; set; } = 40_000_000;

    /// <summary>The remote endpoint (openai backend).</summary>
    public VisionOpenAiOptions OpenAI { get; set; } = new();

    /// <summary>True when <see cref="Backend"/> selects the OpenAI-compatible endpoint.</summary>
    public bool IsOpenAi => string.Equals(Backend, "openai", StringComparison.OrdinalIgnoreCase);
}

/// <summary>Section "Vision:OpenAI": where and how to call an OpenAI-compatible chat/completions endpoint.</summary>
public sealed class VisionOpenAiOptions
{
    /// <summary>Base URL the client appends <c>/chat/completions</c> to, e.g. <c>https://api.openai.com/v1</c> or <c>http://vllm:8000/v1</c>.</summary>
    public string BaseUrl { get; set; } = "https://api.openai.com/v1";

    /// <summary>API key; when empty, the environment variable OPENAI_API_KEY.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Remote model id, e.g. <c>gpt-4o-mini</c> or <c>llava-hf/llava-1.5-7b-hf</c>.</summary>
    public string Model { get; set; } = "gpt-4o-mini";

    public const string MaxTokens = "max_tokens", MaxCompletionTokens = "max_completion_tokens";

    /// <summary>
    /// The JSON field that carries max_tokens: "max_tokens" (default; OpenAI-compatible servers and OpenAI's
    /// non-reasoning models) or "max_completion_tokens" (OpenAI's reasoning models require it).
    /// </summary>
    [RegularExpression("^(max_tokens|max_completion_tokens)$")] public string MaxTokensField { get; set; } = MaxTokens;

    /// <summary>Network timeout of one upstream call (the whole stream for DescribeStream); DEADLINE_EXCEEDED when it passes.</summary>
    [Range(1, 3600)] public int TimeoutSeconds { get; set; } = 120;
}
