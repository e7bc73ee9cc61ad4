using MultiModal.Models.Errors;

namespace MultiModal.Models.Llava.Generation;

/// <summary>
/// Decoding settings with transformers' GenerationConfig defaults (temperature 1.0, top_k 50, top_p 1.0, repetition
/// penalty 1.0, greedy unless <see cref="DoSample"/>). Sampling settings are ignored by greedy decoding, as in
/// transformers; the repetition penalty applies to both.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate (the stop reason is <see cref="FinishReason.Length"/> when reached).</summary>
    public int MaxNewTokens { get; init; } = 256;

    /// <summary>Sample from the warped distribution instead of taking the argmax.</summary>
    public bool DoSample { get; init; }

    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep the k most likely tokens (ties kept); 0 disables.</summary>
    public int TopK { get; init; } = 50;

    /// <summary>Nucleus sampling: keep the smallest set whose probability reaches top_p; 1.0 disables.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>CTRL-style penalty on every token already in the prompt or output; 1.0 disables.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary>Seed of the sampling RNG; null picks one (reported in the result).</summary>
    public long? Seed { get; init; }

    /// <summary>Generation stops when the text contains one of these; the stop string itself is not returned.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Validates the values a caller sends (field names as in transformers).</summary>
    public void Validate()
    {
        static InputRejectedException Bad(string field, string message) => new(InputRejection.Invalid, message, field);
        if (MaxNewTokens < 1)
            throw Bad("max_new_tokens", $"max_new_tokens must be at least 1, got {MaxNewTokens}.");
        if (DoSample && !(Temperature > 0) || double.IsNaN(Temperature) || double.IsInfinity(Temperature))
            throw Bad("temperature", $"temperature must be a positive number when sampling, got {Temperature}.");
        if (TopK < 0)
            throw Bad("top_k", $"top_k must be 0 (disabled) or positive, got {TopK}.");
        if (!(TopP > 0 && TopP <= 1))
            throw Bad("top_p", $"top_p must be in (0, 1], got {TopP}.");
        if (!(RepetitionPenalty > 0) || double.IsInfinity(RepetitionPenalty))
            throw Bad("repetition_penalty", $"repetition_penalty must be a positive number, got {RepetitionPenalty}.");
        if (StopStrings.Any(string.IsNullOrEmpty))
            throw Bad("stop", "Stop strings must not be empty.");
    }
}
