using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.ShapesWorld;
using MultiModal.Training.World;
using static TorchSharp.torch;

namespace MultiModal.Training.Clip;

/// <summary>Top-1 zero-shot accuracy of a CLIP on labeled images: color among 8, shape among 4.</summary>
public sealed record ZeroShotResult(int Count, double ColorAccuracy, double ShapeAccuracy)
{
    public override string ToString() => $"{Count} images: color {ColorAccuracy:P1} (8-way), shape {ShapeAccuracy:P1} (4-way)";
}

/// <summary>
/// Zero-shot classification as the Classify RPC does it, in-process: images decoded and preprocessed like the service,
/// one prompt per class ("a photo of a red shape", "a photo of a circle"), the class of the most similar prompt wins.
/// </summary>
public static class ZeroShotEvaluation
{
    public const string ColorTemplate = "a photo of a {0} shape";
    public const string ShapeTemplate = "a photo of a {0}";

    public static ZeroShotResult Run(ClipModel model, ClipTokenizer tokenizer, ClipImageProcessor processor, IReadOnlyList<LabeledImage> images)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var colors = WorldVocabulary.ShapeColors;
        var shapes = WorldVocabulary.Shapes;
        var colorText = TextEmbeddings(model, tokenizer, colors.Select(c => string.Format(ColorTemplate, WorldVocabulary.Name(c))).ToList());
        var shapeText = TextEmbeddings(model, tokenizer, shapes.Select(s => string.Format(ShapeTemplate, WorldVocabulary.Name(s))).ToList());
        int colorHits = 0, shapeHits = 0;
        foreach (var chunk in images.Chunk(64))
        {
            var pixels = chunk.Select(i => processor.Preprocess(ImageDecoder.Decode(i.Data, ImageLimits.Default))).ToList();
            var size = processor.ImageSize;
            var batch = tensor(pixels.SelectMany(p => p).ToArray(), [pixels.Count, 3, size, size]);
            var features = model.GetImageFeatures(batch);
            features = features / features.norm(-1, keepdim: true);
            var colorPick = matmul(features, colorText.t()).argmax(1).data<long>().ToArray();
            var shapePick = matmul(features, shapeText.t()).argmax(1).data<long>().ToArray();
            for (var n = 0; n < chunk.Length; n++)
            {
                colorHits += colors[(int)colorPick[n]] == chunk[n].Color ? 1 : 0;
                shapeHits += shapes[(int)shapePick[n]] == chunk[n].Shape ? 1 : 0;
            }
        }
        return new ZeroShotResult(images.Count, (double)colorHits / images.Count, (double)shapeHits / images.Count);
    }

    private static Tensor TextEmbeddings(ClipModel model, ClipTokenizer tokenizer, IReadOnlyList<string> prompts)
    {
        var (ids, mask) = ClipWorldBatches.TokenizeWith(tokenizer, prompts);
        var features = model.GetTextFeatures(ids, mask);
        return features / features.norm(-1, keepdim: true);
    }
}
