using System.ComponentModel.DataAnnotations;

namespace MultiModal.Clip;

/// <summary>
/// Service options, section "Clip" (appsettings.json → environment <c>Clip__MaxBatchSize</c> → command line
/// <c>--Clip:MaxBatchSize=</c>). Model hyperparameters are never here: they come from the model folder.
/// </summary>
public sealed class ClipOptions
{
    public const string Section = "Clip";

    /// <summary>Hugging Face CLIP folder (config.json, model.safetensors, tokenizer and preprocessor files).</summary>
    [Required] public string ModelPath { get; set; } = "";

    /// <summary>Name reported by GetModelInfo; defaults to the folder name.</summary>
    public string? ModelName { get; set; }

    /// <summary>auto | cpu | cuda | cuda:N.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>auto (float16 on CUDA; bfloat16 on CPUs with avx512_bf16 or AMX, float32 on other CPUs) | float32 | float16 | bfloat16.</summary>
    public string DType { get; set; } = "auto";

    /// <summary>Most items (texts + images) in one forward pass.</summary>
    [Range(1, 4096)] public int MaxBatchSize { get; set; } = 64;

    /// <summary>How long the worker waits for more requests to join a batch once one is waiting.</summary>
    [Range(0, 1000)] public int MaxBatchWaitMs { get; set; } = 5;

    /// <summary>Requests allowed to wait; beyond it calls get RESOURCE_EXHAUSTED (QUEUE_FULL) instead of queueing.</summary>
    [Range(1, 100_000)] public int MaxQueueLength { get; set; } = 512;

    [Range(1, 4096)] public int MaxTextsPerRequest { get; set; } = 256;
    [Range(1, 1_000_000)] public int MaxTextChars { get; set; } = 10_000;
    [Range(1, 1024)] public int MaxImagesPerRequest { get; set; } = 64;
    [Range(1, 100_000)] public int MaxLabels { get; set; } = 1000;
    [Range(1, 100_000)] public int MaxCandidates { get; set; } = 1000;

    /// <summary>Largest encoded image accepted, in bytes (the gRPC message limit is set separately, see Grpc:MaxReceiveMessageBytes).</summary>
    [Range(1, long.MaxValue)] public long MaxImageBytes { get; set; } = 20L << 20;

    /// <summary>Largest image accepted, width × height read from the header before decoding.</summary>
    [Range(1, long.MaxValue)] public long MaxImagePixels { get; set; } = 40_000_000;
}
