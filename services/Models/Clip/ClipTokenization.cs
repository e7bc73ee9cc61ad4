namespace MultiModal.Models.Clip;

/// <summary>
/// Token ids of one text: [BOS] + content ids + [EOS], at most the tokenizer's context length.
/// <paramref name="Truncated"/> is true when content ids were dropped to fit (openai's clip.tokenize(truncate=False)
/// would have raised).
/// </summary>
public sealed record ClipTokenization(int[] Ids, bool Truncated);
