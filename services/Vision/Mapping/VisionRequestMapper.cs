using Google.Protobuf;
using Google.Protobuf.Collections;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Core.Errors;
using MultiModal.Models.Errors;
using MultiModal.Models.Imaging;
using MultiModal.Vision.Backends;

namespace MultiModal.Vision.Mapping;

/// <summary>
/// Wire → <see cref="VisionRequest"/>, the one place the Vision service's request rules live: checks every field
/// (INVALID_ARGUMENT naming it), decodes the images on the calling thread and applies the defaults (empty prompt →
/// "Describe this image.", max_tokens 0 → DefaultMaxTokens, temperature unset or 0 → greedy, top_p 0 → 1). The one
/// rule that needs the model's tokenizer, the prompt's length in tokens, is <see cref="CheckPromptTokens"/>, which the
/// local backend applies once it has tokenized the prompt (still on the request thread, before queueing).
/// </summary>
public static class VisionRequestMapper
{
    public const string DefaultPrompt = "Describe this image.";
    public const int MaxStopStrings = 4;

    public static VisionRequest ToRequest(DescribeRequest r, VisionOptions o) =>
        ToRequest(r.Images, r.Prompt, r.MaxTokens, r.HasTemperature ? r.Temperature : null, r.TopP, r.TopK,
            r.HasSeed ? r.Seed : null, r.Stop, o) with { History = History(r.History, r.Prompt, r.System, o), System = r.System };

    public static VisionRequest ToRequest(DescribeStreamRequest r, VisionOptions o) =>
        ToRequest(r.Images, r.Prompt, r.MaxTokens, r.HasTemperature ? r.Temperature : null, r.TopP, r.TopK,
            r.HasSeed ? r.Seed : null, r.Stop, o) with { History = History(r.History, r.Prompt, r.System, o), System = r.System };

    // Earlier turns and the system text follow the prompt's rules (no image token); all texts together within
    // MaxPromptChars. The prompt's own length in tokens, history included, is checked by the backend that tokenizes it.
    private static IReadOnlyList<VisionTurn> History(RepeatedField<ConversationTurn> history, string prompt, string system, VisionOptions o)
    {
        Text("system", system);
        var turns = new List<VisionTurn>(history.Count);
        for (var i = 0; i < history.Count; i++)
        {
            if (history[i].User.Length == 0)
                throw InferenceException.InvalidArgument($"history[{i}].user", "an earlier turn needs the user's message");
            Text($"history[{i}].user", history[i].User);
            Text($"history[{i}].assistant", history[i].Assistant);
            turns.Add(new VisionTurn(history[i].User, history[i].Assistant));
        }
        var total = (long)prompt.Length + system.Length + turns.Sum(t => (long)t.User.Length + t.Assistant.Length);
        if (total > o.MaxPromptChars)
            throw InferenceException.InvalidArgument(turns.Count > 0 ? "history" : "system",
                $"prompt, system and history have {total} characters together; at most {o.MaxPromptChars}",
                Contracts.Common.V1.ErrorReason.PromptTooLong);
        return turns;

        static void Text(string field, string text)
        {
            if (text.Contains(Models.Llava.LlavaPrompt.ImageToken, StringComparison.Ordinal))
                throw InferenceException.InvalidArgument(field, $"{field} must not contain \"{Models.Llava.LlavaPrompt.ImageToken}\"; images go in the images field");
        }
    }

    private static VisionRequest ToRequest(
        RepeatedField<Contracts.Common.V1.Image> images, string prompt, uint maxTokens, float? temperature, float topP, uint topK,
        ulong? seed, RepeatedField<string> stop, VisionOptions o)
    {
        var sampling = Sampling(maxTokens, temperature, topP, topK, seed, stop, o);
        var text = Prompt(prompt, o);
        return new VisionRequest(Images(images, o), text, sampling);
    }

    /// <summary>
    /// The prompt's merged length (text tokens + <paramref name="imageTokens"/> image rows) must not exceed
    /// <paramref name="maxPromptTokens"/>: INVALID_ARGUMENT / PROMPT_TOO_LONG on field "prompt".
    /// </summary>
    public static void CheckPromptTokens(int promptTokens, int imageTokens, int maxPromptTokens)
    {
        if (promptTokens > maxPromptTokens)
            throw InferenceException.InvalidArgument("prompt",
                $"the prompt takes {promptTokens} tokens ({imageTokens} for images); the limit is {maxPromptTokens}",
                Contracts.Common.V1.ErrorReason.PromptTooLong);
    }

    private static string Prompt(string prompt, VisionOptions o)
    {
        if (prompt.Length > o.MaxPromptChars)
            throw InferenceException.InvalidArgument("prompt", $"prompt has {prompt.Length} characters; at most {o.MaxPromptChars}",
                Contracts.Common.V1.ErrorReason.PromptTooLong);
        // The image placeholder is the model's own token: one in the prompt text would not match any image.
        if (prompt.Contains(Models.Llava.LlavaPrompt.ImageToken, StringComparison.Ordinal))
            throw InferenceException.InvalidArgument("prompt", $"prompt must not contain \"{Models.Llava.LlavaPrompt.ImageToken}\"; images go in the images field");
        return string.IsNullOrWhiteSpace(prompt) ? DefaultPrompt : prompt;
    }

    private static VisionSampling Sampling(uint maxTokens, float? temperature, float topP, uint topK, ulong? seed,
        IReadOnlyList<string> stop, VisionOptions o)
    {
        if (maxTokens > o.MaxNewTokens)
            throw InferenceException.InvalidArgument("max_tokens", $"max_tokens is {maxTokens}; at most {o.MaxNewTokens}");
        if (temperature is { } t && !(t >= 0 && t <= 2))
            throw InferenceException.InvalidArgument("temperature", $"temperature must be in [0, 2], got {t}");
        if (!(topP >= 0 && topP <= 1))
            throw InferenceException.InvalidArgument("top_p", $"top_p must be in [0, 1], got {topP}");
        if (topK > int.MaxValue)
            throw InferenceException.InvalidArgument("top_k", $"top_k is {topK}; at most {int.MaxValue}");
        if (stop.Count > MaxStopStrings)
            throw InferenceException.InvalidArgument("stop", $"{stop.Count} stop strings given; at most {MaxStopStrings}");
        for (var i = 0; i < stop.Count; i++)
            if (stop[i].Length == 0)
                throw InferenceException.InvalidArgument($"stop[{i}]", "stop string is empty");
        return new VisionSampling(
            MaxTokens: maxTokens == 0 ? o.DefaultMaxTokens : (int)maxTokens,
            Temperature: temperature is { } value && value > 0 ? value : null,
            TopP: topP == 0 ? 1.0 : topP,
            TopK: (int)topK,
            Seed: seed,
            Stop: stop.ToArray());
    }

    private static IReadOnlyList<VisionImage> Images(IReadOnlyList<Contracts.Common.V1.Image> images, VisionOptions o)
    {
        if (images.Count == 0)
            throw InferenceException.InvalidArgument("images", "at least one image is required");
        if (images.Count > o.MaxImages)
            throw InferenceException.InvalidArgument("images", $"{images.Count} images given; at most {o.MaxImages} per request");
        var limits = new ImageLimits { MaxBytes = o.MaxImageBytes, MaxPixels = o.MaxImagePixels };
        return images.Select((image, i) => Image(image, $"images[{i}].data", limits)).ToList();
    }

    private static VisionImage Image(Contracts.Common.V1.Image? image, string field, ImageLimits limits)
    {
        if (image is null || image.Data.IsEmpty)
            throw InferenceException.InvalidArgument(field, "image bytes are required");
        try
        {
            var data = image.Data.Memory;
            return new VisionImage(data, ImageMimeTypes.Sniff(data.Span), ImageDecoder.Decode(data.Span, limits));
        }
        catch (InputRejectedException e)
        {
            throw e.WithField(field);
        }
    }
}
