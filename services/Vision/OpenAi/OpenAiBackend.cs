using System.ClientModel;
using System.ClientModel.Primitives;
using System.Runtime.CompilerServices;
using MultiModal.Core.Inference;
using MultiModal.Vision.Backends;
using OpenAI;
using OpenAI.Chat;

namespace MultiModal.Vision.OpenAi;

/// <summary>
/// Forwards requests to an OpenAI-compatible chat/completions endpoint (OpenAI, Azure-style proxies, vLLM, llama.cpp
/// server, ...). No local queue: concurrency is the upstream's to manage, and its 429 comes back as
/// RESOURCE_EXHAUSTED. The client library's retries are off so that the caller's deadline and retry policy decide.
/// </summary>
public sealed class OpenAiBackend : IVisionBackend
{
    private readonly ChatClient _client;
    private readonly ILogger _logger;
    private readonly string _maxTokensField;

    public OpenAiBackend(VisionOptions options, ILoggerFactory loggers)
    {
        _logger = loggers.CreateLogger<OpenAiBackend>();
        var o = options.OpenAI;
        var key = string.IsNullOrEmpty(o.ApiKey) ? Environment.GetEnvironmentVariable("OPENAI_API_KEY") : o.ApiKey;
        if (string.IsNullOrEmpty(key))
            throw new InvalidOperationException("The openai backend needs an API key: set Vision:OpenAI:ApiKey or OPENAI_API_KEY.");
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = new Uri(o.BaseUrl),
            NetworkTimeout = TimeSpan.FromSeconds(o.TimeoutSeconds),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        };
        _maxTokensField = o.MaxTokensField;
        _client = new ChatClient(o.Model, new ApiKeyCredential(key), clientOptions);
        ModelInfo = new VisionModelInfo("openai", options.ModelName ?? o.Model, ContextLength: 0, MaxPromptTokens: 0, Device: "", DType: "");
        VisionLog.UpstreamConfigured(_logger, o.BaseUrl, o.Model, o.TimeoutSeconds);
    }

    public VisionModelInfo ModelInfo { get; }

    public ServingStatsSnapshot Stats => default;

    /// <summary>No queue: every request goes upstream at once.</summary>
    public int RejectWaiting(Core.Errors.InferenceException reason) => 0;

    public async Task<VisionResult> DescribeAsync(VisionRequest request, DateTime deadline, CancellationToken cancellationToken)
    {
        ChatCompletion completion;
        try
        {
            completion = (await _client.CompleteChatAsync(
                OpenAiRequestBuilder.Messages(request), OpenAiRequestBuilder.Options(request.Sampling, _maxTokensField), cancellationToken)).Value;
        }
        catch (Exception e) when (Mapped(e, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
        var text = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        return new VisionResult(text, Map(completion.FinishReason), Usage(completion.Usage));
    }

    public async IAsyncEnumerable<VisionStreamEvent> DescribeStreamAsync(
        VisionRequest request, DateTime deadline, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var updates = _client.CompleteChatStreamingAsync(
            OpenAiRequestBuilder.Messages(request), OpenAiRequestBuilder.Options(request.Sampling, _maxTokensField), cancellationToken);
        await using var enumerator = updates.GetAsyncEnumerator(cancellationToken);
        var finish = VisionFinishReason.Stop;
        var usage = new VisionUsage(0, 0);
        while (await MoveNextAsync(enumerator, cancellationToken))
        {
            var update = enumerator.Current;
            foreach (var part in update.ContentUpdate)
                if (part.Kind == ChatMessageContentPartKind.Text && !string.IsNullOrEmpty(part.Text))
                    yield return new VisionStreamEvent(part.Text);
            if (update.FinishReason is { } reason)
                finish = Map(reason);
            if (update.Usage is { } u)
                usage = Usage(u);
        }
        yield return new VisionStreamEvent("", finish, usage);
    }

    // `yield` cannot sit inside a try with a catch, so each step of the stream is mapped here.
    private async ValueTask<bool> MoveNextAsync(IAsyncEnumerator<StreamingChatCompletionUpdate> enumerator, CancellationToken cancellationToken)
    {
        try
        {
            return await enumerator.MoveNextAsync();
        }
        catch (Exception e) when (Mapped(e, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    private Core.Errors.InferenceException? Mapped(Exception e, CancellationToken cancellationToken)
    {
        var mapped = OpenAiErrors.Map(e, cancellationToken);
        if (mapped is not null)
            VisionLog.UpstreamFailed(_logger, (e as ClientResultException)?.Status ?? 0, mapped.Code.ToString(), e);
        return mapped;
    }

    private static VisionUsage Usage(ChatTokenUsage? usage) => new(usage?.InputTokenCount ?? 0, usage?.OutputTokenCount ?? 0);

    // content_filter and tool calls end the answer early like a stop; only "length" means the budget ran out.
    private static VisionFinishReason Map(ChatFinishReason reason) =>
        reason == ChatFinishReason.Length ? VisionFinishReason.Length : VisionFinishReason.Stop;

    public void Dispose()
    {
    }
}
