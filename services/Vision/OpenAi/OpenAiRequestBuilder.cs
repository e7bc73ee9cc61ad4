using MultiModal.Models.Imaging;
using MultiModal.Vision.Backends;
using OpenAI.Chat;

namespace MultiModal.Vision.OpenAi;

/// <summary>
/// <see cref="VisionRequest"/> → the system message (if any), the earlier turns as user/assistant messages, and the
/// question as the last user message; the images (base64 data URLs) go with the first user message. And the
/// chat/completions options: max_tokens, temperature (0 for greedy), top_p, top_k (sampling only), seed, stop.
/// </summary>
public static class OpenAiRequestBuilder
{
    /// <summary>Media types OpenAI's vision models accept; anything else is re-encoded as PNG.</summary>
    private static readonly HashSet<string> AcceptedMimeTypes = ["image/png", "image/jpeg", "image/webp", "image/gif"];

    public static IReadOnlyList<ChatMessage> Messages(VisionRequest request)
    {
        var messages = new List<ChatMessage>();
        if (request.System.Length > 0)
            messages.Add(new SystemChatMessage(request.System));
        foreach (var turn in request.History)
        {
            messages.Add(messages.OfType<UserChatMessage>().Any() ? new UserChatMessage(turn.User) : new UserChatMessage(WithImages(turn.User, request)));
            messages.Add(new AssistantChatMessage(turn.Assistant));
        }
        messages.Add(request.History.Count > 0 ? new UserChatMessage(request.Prompt) : new UserChatMessage(WithImages(request.Prompt, request)));
        return messages;
    }

    private static List<ChatMessageContentPart> WithImages(string text, VisionRequest request)
    {
        var parts = new List<ChatMessageContentPart> { ChatMessageContentPart.CreateTextPart(text) };
        foreach (var image in request.Images)
        {
            var (bytes, mime) = AcceptedMimeTypes.Contains(image.MimeType)
                ? (BinaryData.FromBytes(image.Data), image.MimeType)
                : (BinaryData.FromBytes(ImageEncoder.EncodePng(image.Decoded)), "image/png");
            parts.Add(ChatMessageContentPart.CreateImagePart(bytes, mime));
        }
        return parts;
    }

    /// <param name="s">The request's decoding settings.</param>
    /// <param name="maxTokensField">
    /// "max_tokens" (what OpenAI-compatible servers such as vLLM, llama.cpp and Ollama read, and OpenAI's non-reasoning
    /// models still accept) or "max_completion_tokens" (the client library's choice, required by OpenAI's reasoning models).
    /// </param>
    public static ChatCompletionOptions Options(VisionSampling s, string maxTokensField)
    {
        var options = new ChatCompletionOptions
        {
            // Greedy locally means temperature 0 remotely (OpenAI's own default is 1, i.e. sampling).
            Temperature = (float)(s.Temperature ?? 0),
        };
#pragma warning disable SCME0001 // JsonPatch (fields the typed options do not have) is marked experimental.
        if (maxTokensField == VisionOpenAiOptions.MaxCompletionTokens)
            options.MaxOutputTokenCount = s.MaxTokens;
        else
            options.Patch.Set("$.max_tokens"u8, s.MaxTokens);
        // Not an OpenAI parameter, but vLLM and llama.cpp read it; sent only when the caller asked for it, so OpenAI's
        // 400 for an unknown argument reaches that caller instead of the setting being dropped silently.
        if (s.Temperature is not null && s.TopK > 0)
            options.Patch.Set("$.top_k"u8, s.TopK);
#pragma warning restore SCME0001
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
