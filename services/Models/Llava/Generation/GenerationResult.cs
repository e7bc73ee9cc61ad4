namespace MultiModal.Models.Llava.Generation;

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token or a stop string.</summary>
    Stop,
    /// <summary>max_new_tokens, or the model's max_position_embeddings, was reached.</summary>
    Length,
    /// <summary>The caller's CancellationToken fired; the result holds what was generated until then.</summary>
    Cancelled,
}

/// <summary>
/// Token counts. <see cref="PromptTokens"/> is the merged sequence the decoder saw (text tokens without the
/// <c>&lt;image&gt;</c> placeholders, plus <see cref="ImageTokens"/> image rows); <see cref="CompletionTokens"/> counts
/// every generated id, an end-of-sequence token included.
/// </summary>
public sealed record GenerationUsage(int PromptTokens, int ImageTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>
/// A streamed piece of output: the id just generated (null for the final flush of held-back text) and the new text,
/// which may be empty while a UTF-8 character or a possible stop string is incomplete.
/// </summary>
public sealed record GenerationUpdate(int? TokenId, string TextDelta);

/// <summary>
/// The generated ids (an end-of-sequence id included), the text (special tokens skipped, cut before a stop string;
/// always the concatenation of every streamed delta), why it ended, the counts and the sampling seed (null if greedy).
/// </summary>
public sealed record GenerationResult(
    IReadOnlyList<int> TokenIds, string Text, FinishReason FinishReason, GenerationUsage Usage, long? Seed);
