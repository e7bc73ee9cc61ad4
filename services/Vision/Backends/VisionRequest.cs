using MultiModal.Models.Imaging;

namespace MultiModal.Vision.Backends;

/// <summary>
/// One validated request, the same for every backend: decoded images (with their original bytes for backends that
/// forward them), the question, and the decoding settings with defaults applied.
/// </summary>
/// <param name="Images">1 to MaxImages images, already checked to decode.</param>
/// <param name="Prompt">The question or instruction ("Describe this image." when the caller sent none).</param>
/// <param name="Sampling">How to pick tokens.</param>
public sealed record VisionRequest(IReadOnlyList<VisionImage> Images, string Prompt, VisionSampling Sampling)
{
    /// <summary>Earlier exchanges, oldest first; the images belong to the first user message. Empty: one question.</summary>
    public IReadOnlyList<VisionTurn> History { get; init; } = [];

    /// <summary>A system instruction ("" for none), placed by the model's chat template.</summary>
    public string System { get; init; } = "";
}

/// <summary>One earlier exchange: the user's message and the assistant's answer.</summary>
public sealed record VisionTurn(string User, string Assistant);

/// <summary>An image as received (<paramref name="Data"/>, sniffed <paramref name="MimeType"/>) and as decoded.</summary>
public sealed record VisionImage(ReadOnlyMemory<byte> Data, string MimeType, DecodedImage Decoded);

/// <summary>Decoding settings after defaults: greedy when <see cref="Temperature"/> is null.</summary>
/// <param name="MaxTokens">Tokens to generate at most, in [1, MaxNewTokens].</param>
/// <param name="Temperature">Null for greedy decoding; otherwise in (0, 2].</param>
/// <param name="TopP">Nucleus mass in (0, 1]; 1 is off.</param>
/// <param name="TopK">Keep the k most likely tokens; 0 is off.</param>
/// <param name="Seed">Sampling seed; null picks one.</param>
/// <param name="Stop">Up to 4 non-empty stop strings.</param>
public sealed record VisionSampling(int MaxTokens, double? Temperature, double TopP, int TopK, ulong? Seed, IReadOnlyList<string> Stop)
{
    public bool IsGreedy => Temperature is null;
}
