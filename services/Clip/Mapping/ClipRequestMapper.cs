using Google.Protobuf;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Core.Errors;
using MultiModal.Models.Errors;
using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;

namespace MultiModal.Clip.Mapping;

/// <summary>
/// Wire → work, the one place the CLIP service validates a request: every field (INVALID_ARGUMENT naming the field),
/// then texts tokenized and images decoded + preprocessed on the calling thread, so the model thread only runs forward
/// passes. One <c>ToWork</c> per RPC; the handlers call nothing else before queueing.
/// </summary>
public static class ClipRequestMapper
{
    /// <summary>A text and whether the tokenizer cut it to the context length.</summary>
    public sealed record TokenizedText(int[] Ids, bool Truncated);

    /// <summary>EmbedTexts: the work, and each text's tokens and truncation for the response.</summary>
    public static (ClipWork Work, IReadOnlyList<TokenizedText> Texts) ToWork(EmbedTextsRequest request, ClipTokenizer tokenizer, ClipImageProcessor processor, ClipOptions o)
    {
        var texts = Texts(request.Texts, "texts", tokenizer, processor, o);
        return (new ClipWork([.. texts.Select(t => t.Ids)], []), texts);
    }

    public static ClipWork ToWork(EmbedImagesRequest request, ClipTokenizer tokenizer, ClipImageProcessor processor, ClipOptions o) =>
        new([], Images(request.Images, "images", tokenizer, processor, o));

    /// <summary>Classify: one text per label (through the template), then the image.</summary>
    public static ClipWork ToWork(ClassifyRequest request, ClipTokenizer tokenizer, ClipImageProcessor processor, ClipOptions o)
    {
        var prompts = Labels(request, o);
        var pixels = Image(request.Image, "image", tokenizer, processor, o);
        return new ClipWork([.. prompts.Select((p, i) => Text(p, $"labels[{i}]", tokenizer, processor, o).Ids)], [pixels]);
    }

    private static IReadOnlyList<TokenizedText> Texts(IReadOnlyList<string> texts, string field, ClipTokenizer tokenizer, ClipImageProcessor processor, ClipOptions o)
    {
        if (texts.Count == 0)
            throw InferenceException.InvalidArgument(field, "at least one text is required");
        if (texts.Count > o.MaxTextsPerRequest)
            throw InferenceException.InvalidArgument(field, $"{texts.Count} texts given; at most {o.MaxTextsPerRequest} per request");
        return texts.Select((text, i) => Text(text, $"{field}[{i}]", tokenizer, processor, o)).ToList();
    }

    private static TokenizedText Text(string text, string field, ClipTokenizer tokenizer, ClipImageProcessor processor, ClipOptions o)
    {
        if (text.Length > o.MaxTextChars)
            throw InferenceException.InvalidArgument(field, $"text has {text.Length} characters; at most {o.MaxTextChars}");
        var encoded = tokenizer.Encode(text);
        return new TokenizedText(encoded.Ids, encoded.Truncated);
    }

    private static IReadOnlyList<float[]> Images(IReadOnlyList<Contracts.Common.V1.Image> images, string field, ClipTokenizer tokenizer, ClipImageProcessor processor, ClipOptions o)
    {
        if (images.Count == 0)
            throw InferenceException.InvalidArgument(field, "at least one image is required");
        if (images.Count > o.MaxImagesPerRequest)
            throw InferenceException.InvalidArgument(field, $"{images.Count} images given; at most {o.MaxImagesPerRequest} per request");
        // Decode + resize dominate the request's own work (~17 ms for a 640×480 JPEG): spread them over the cores.
        // Each image reports its own failure; the first bad image (by index) is the error the caller sees.
        var pixels = new float[images.Count][];
        var failures = new Exception?[images.Count];
        Parallel.For(0, images.Count, i =>
        {
            try { pixels[i] = Image(images[i], $"{field}[{i}]", tokenizer, processor, o); }
            catch (Exception e) { failures[i] = e; }
        });
        if (failures.FirstOrDefault(f => f is not null) is { } failure)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return pixels;
    }

    private static float[] Image(Contracts.Common.V1.Image? image, string field, ClipTokenizer tokenizer, ClipImageProcessor processor, ClipOptions o)
    {
        if (image is null || image.Data.IsEmpty)
            throw InferenceException.InvalidArgument($"{field}.data", "image bytes are required");
        try
        {
            var decoded = ImageDecoder.Decode(image.Data.Span, Limits(o));
            var (height, width) = processor.OutputSize(decoded.Width, decoded.Height);
            var pixels = ClipPixelPool.Rent(3 * height * width); // back to the pool once copied into the batch tensor
            processor.PreprocessInto(decoded, pixels);
            return pixels;
        }
        catch (InputRejectedException e)
        {
            throw e.WithField($"{field}.data");
        }
    }

    private static IReadOnlyList<string> Labels(ClassifyRequest request, ClipOptions o)
    {
        if (request.Labels.Count == 0)
            throw InferenceException.InvalidArgument("labels", "at least one label is required");
        if (request.Labels.Count > o.MaxLabels)
            throw InferenceException.InvalidArgument("labels", $"{request.Labels.Count} labels given; at most {o.MaxLabels}");
        for (var i = 0; i < request.Labels.Count; i++)
            if (string.IsNullOrWhiteSpace(request.Labels[i]))
                throw InferenceException.InvalidArgument($"labels[{i}]", "label is empty");
        var template = request.Template;
        if (template.Length == 0)
            return request.Labels;
        var holes = template.Split("{}").Length - 1;
        if (holes != 1)
            throw InferenceException.InvalidArgument("template", $"template must contain exactly one \"{{}}\" placeholder, found {holes}");
        return request.Labels.Select(label => template.Replace("{}", label)).ToList();
    }

    /// <summary>Rank: splits the items into texts and images, remembering each item's place.</summary>
    public static (ClipWork Work, List<(bool IsText, int Index)> Order) ToWork(RankRequest request, ClipTokenizer tokenizer, ClipImageProcessor processor, ClipOptions o)
    {
        if (request.Query is null || request.Query.ItemCase == RankItem.ItemOneofCase.None)
            throw InferenceException.InvalidArgument("query", "a text or image query is required");
        if (request.Candidates.Count == 0)
            throw InferenceException.InvalidArgument("candidates", "at least one candidate is required");
        if (request.Candidates.Count > o.MaxCandidates)
            throw InferenceException.InvalidArgument("candidates", $"{request.Candidates.Count} candidates given; at most {o.MaxCandidates}");
        var texts = new List<int[]>();
        var pixels = new List<float[]>();
        var order = new List<(bool, int)>();
        void Add(RankItem item, string field)
        {
            switch (item.ItemCase)
            {
                case RankItem.ItemOneofCase.Text:
                    order.Add((true, texts.Count));
                    texts.Add(Text(item.Text, $"{field}.text", tokenizer, processor, o).Ids);
                    break;
                case RankItem.ItemOneofCase.Image:
                    order.Add((false, pixels.Count));
                    pixels.Add(Image(item.Image, $"{field}.image", tokenizer, processor, o));
                    break;
                default:
                    throw InferenceException.InvalidArgument(field, "a text or image is required");
            }
        }
        Add(request.Query, "query");
        for (var i = 0; i < request.Candidates.Count; i++)
            Add(request.Candidates[i], $"candidates[{i}]");
        return (new ClipWork(texts, pixels), order);
    }

    private static ImageLimits Limits(ClipOptions o) => new() { MaxBytes = o.MaxImageBytes, MaxPixels = o.MaxImagePixels };
}
