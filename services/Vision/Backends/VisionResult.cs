namespace MultiModal.Vision.Backends;

/// <summary>Why generation stopped (mirrors the wire enum; backends never see the wire types).</summary>
public enum VisionFinishReason
{
    /// <summary>End token or stop string.</summary>
    Stop,
    /// <summary>max_tokens (or the context) was reached.</summary>
    Length,
    /// <summary>The caller cancelled or the deadline passed.</summary>
    Cancelled,
}

/// <summary>Token counts; <see cref="PromptTokens"/> includes image tokens.</summary>
public sealed record VisionUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>The whole answer of a unary Describe.</summary>
public sealed record VisionResult(string Text, VisionFinishReason FinishReason, VisionUsage Usage);

/// <summary>
/// One event of a streamed answer: a non-empty text delta, or (last) the finish reason and usage with an empty delta.
/// </summary>
public sealed record VisionStreamEvent(string Delta, VisionFinishReason? FinishReason = null, VisionUsage? Usage = null)
{
    public bool IsFinal => FinishReason is not null;
}

/// <summary>What GetModelInfo reports about a backend.</summary>
/// <param name="Backend">"local" or "openai".</param>
/// <param name="ModelName">Folder name or remote model id.</param>
/// <param name="ContextLength">Language-model positions; 0 when unknown (remote).</param>
/// <param name="MaxPromptTokens">Enforced prompt limit; 0 when not enforced (remote).</param>
/// <param name="Device">Device, empty when remote.</param>
/// <param name="DType">Dtype, empty when remote.</param>
public sealed record VisionModelInfo(string Backend, string ModelName, int ContextLength, int MaxPromptTokens, string Device, string DType);
