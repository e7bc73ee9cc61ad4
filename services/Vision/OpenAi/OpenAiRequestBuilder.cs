using MultiModal.Models.Imaging;
using MultiModal.Vision.Backends;
using OpenAI.Chat;

namespace MultiModal.Vision.OpenAi;

/// <summary>
/// <see cref="VisionRequest"/> → one user message (the prompt, then each image as a base64 data URL) and the
/// chat/completions options: max_tokens, temperature (0 for greedy), top_p, seed, stop.
/// </summary>
public static class OpenAiRequestBuilder
{
    /// <summary>Media types OpenAI's vision models accept; anything else is re-encoded as PNG.</summary>
    private static readonly HashSet<string> AcceptedMimeTypes = ["image/png", "image/jpeg", "image/webp", "image/gif"];

    public static IReadOnlyList<ChatMessage> Messages(VisionRequest request)
    {
        var parts = new List<ChatMessageContentPart> { ChatMessageContentPart.CreateTextPart(request.Prompt) };
        foreach (var image in request.Images)
        {
            var (bytes, mime) = AcceptedMimeTypes.Contains(image.MimeType)
                ? (BinaryData.FromBytes(image.Data), image.MimeType)
                : (BinaryData.FromBytes(ImageEncoder.EncodePng(image.Decoded)), "image/png");
            parts.Add(ChatMessageContentPart.CreateImagePart(bytes, mime));
        }
        return [new UserChatMessage(parts)];
    }

    public static ChatCompletionOptions Options(VisionSampling s)
    {
        var options = new ChatCompletionOptions
        {
            MaxOutputTokenCount = s.MaxTokens,
            // Greedy locally means temperature 0 remotely (OpenAI's own default is 1, i.e. sampling).
            Temperature = (float)(s.Temperature ?? 0),
        };
        if (s.TopP < 1)
            options.TopP = (float)s.TopP;
#pragma warning disable OPENAI001 // Seed is marked experimental (best-effort determinism upstream).
        if (s.Seed is { } seed)
            options.Seed = unchecked((long)seed);
#pragma warning restore OPENAI001
        foreach (var stop in s.Stop)
            options.StopSequences.Add(stop);
        return options;
    }
}
