using MultiModal.Models.Llava.Generation;

namespace MultiModal.Vision.Local;

/// <summary>
/// One generation, prepared on the request thread (tokenized prompt, preprocessed CHW pixels) so the device thread
/// only runs the model. <see cref="OnDelta"/> receives streamed text (called on the device thread; must not block).
/// </summary>
/// <param name="InputIds">Prompt ids with one <c>&lt;image&gt;</c> per image, BOS included.</param>
/// <param name="Pixels">(I, 3, S, S) float32 pixel values, flattened.</param>
/// <param name="ImageCount">I.</param>
/// <param name="PromptTokens">Merged prompt length (image rows included), as the decoder will see it.</param>
/// <param name="Options">Decoding settings.</param>
/// <param name="OnDelta">Receives every non-empty text delta; null for unary calls.</param>
/// <param name="CancellationToken">The call's token: generation stops before the next token once it fires.</param>
public sealed record LlavaWork(
    int[] InputIds, float[] Pixels, int ImageCount, int PromptTokens, GenerationOptions Options,
    Action<string>? OnDelta, CancellationToken CancellationToken)
{
    /// <summary>Stopwatch timestamp of the request's acceptance (when it was prepared), for time-to-first-token.</summary>
    public long AcceptedAt { get; init; } = System.Diagnostics.Stopwatch.GetTimestamp();
}
