using System.Text;
using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.ShapesWorld;
using MultiModal.Training.World;
using static TorchSharp.torch;

namespace MultiModal.Training.Clip;

/// <summary>
/// The prompt wordings of a zero-shot evaluation. <see cref="Trained"/> are two of the training captions ("a photo of
/// a red shape", "a photo of a circle"); <see cref="HeldOut"/> are wordings no training caption uses ("an image of a
/// circle"), so a score with them is not a caption the model saw paired with the image.
/// </summary>
public sealed record ZeroShotTemplates(string Name, string Color, string Shape)
{
    public static readonly ZeroShotTemplates Trained = new("trained prompts", "a photo of a {0} shape", "a photo of a {0}");
    public static readonly ZeroShotTemplates HeldOut = new("held-out prompts", "an image of a {0} shape", "an image of a {0}");

    public static ZeroShotTemplates Parse(string? name) => name switch
    {
        null or "trained" => Trained,
        "heldout" => HeldOut,
        _ => throw new ArgumentException($"--templates must be trained or heldout, not '{name}'"),
    };
}

/// <summary>Top-1 zero-shot accuracy of a CLIP on labeled images: color among 8, shape among 4, and where shape went wrong.</summary>
public sealed record ZeroShotResult(int Count, double ColorAccuracy, double ShapeAccuracy)
{
    /// <summary>Shape confusion: [true shape, predicted shape] counts, in <see cref="WorldVocabulary.Shapes"/> order.</summary>
    public int[,] ShapeConfusion { get; init; } = new int[4, 4];

    /// <summary>Shape and color accuracy per size (images whose size is known): (count, color, shape).</summary>
    public IReadOnlyDictionary<WorldSize, (int Count, double Color, double Shape)> BySize { get; init; } =
        new Dictionary<WorldSize, (int, double, double)>();

    public override string ToString() => $"{Count} images: color {ColorAccuracy:P1} (8-way), shape {ShapeAccuracy:P1} (4-way)";

    /// <summary>Per-size accuracy and the shape confusion matrix, as text.</summary>
    public string Breakdown()
    {
        var text = new StringBuilder();
        foreach (var (size, r) in BySize)
            text.AppendLine($"  {WorldVocabulary.Name(size),-6} {r.Count,4} images: color {r.Color:P1}, shape {r.Shape:P1}");
        var shapes = WorldVocabulary.Shapes;
        text.AppendLine("  shape confusion (rows: true, columns: predicted; per-shape accuracy last):");
        text.AppendLine("  " + new string(' ', 9) + string.Concat(shapes.Select(s => $"{WorldVocabulary.Name(s),9}")));
        for (var t = 0; t < shapes.Count; t++)
        {
            var row = Enumerable.Range(0, shapes.Count).Select(p => ShapeConfusion[t, p]).ToArray();
            var total = row.Sum();
            text.AppendLine($"  {WorldVocabulary.Name(shapes[t]),9}" + string.Concat(row.Select(n => $"{n,9}"))
                + $"   {(total == 0 ? 0 : (double)row[t] / total),6:P1}");
        }
        return text.ToString();
    }
}

/// <summary>
/// Zero-shot classification as the Classify RPC does it, in-process: images decoded and preprocessed like the service,
/// one prompt per class ("a photo of a red shape", "a photo of a circle"), the class of the most similar prompt wins.
/// </summary>
public static class ZeroShotEvaluation
{
    public static ZeroShotResult Run(ClipModel model, ClipTokenizer tokenizer, ClipImageProcessor processor, IReadOnlyList<LabeledImage> images,
        ZeroShotTemplates? templates = null)
    {
        templates ??= ZeroShotTemplates.Trained;
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var colors = WorldVocabulary.ShapeColors;
        var shapes = WorldVocabulary.Shapes;
        var colorText = TextEmbeddings(model, tokenizer, colors.Select(c => string.Format(templates.Color, WorldVocabulary.Name(c))).ToList());
        var shapeText = TextEmbeddings(model, tokenizer, shapes.Select(s => string.Format(templates.Shape, WorldVocabulary.Name(s))).ToList());
        var confusion = new int[shapes.Count, shapes.Count];
        var bySize = new Dictionary<WorldSize, (int Count, int Color, int Shape)>();
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
                var colorHit = colors[(int)colorPick[n]] == chunk[n].Color ? 1 : 0;
                var shapeHit = shapes[(int)shapePick[n]] == chunk[n].Shape ? 1 : 0;
                colorHits += colorHit;
                shapeHits += shapeHit;
                confusion[(int)chunk[n].Shape, (int)shapePick[n]]++;
                if (chunk[n].Size is { } z)
                {
                    var (c, h, s) = bySize.GetValueOrDefault(z);
                    bySize[z] = (c + 1, h + colorHit, s + shapeHit);
                }
            }
        }
        return new ZeroShotResult(images.Count, (double)colorHits / images.Count, (double)shapeHits / images.Count)
        {
            ShapeConfusion = confusion,
            BySize = bySize.OrderBy(p => p.Key).ToDictionary(p => p.Key, p => (p.Value.Count, (double)p.Value.Color / p.Value.Count, (double)p.Value.Shape / p.Value.Count)),
        };
    }

    private static Tensor TextEmbeddings(ClipModel model, ClipTokenizer tokenizer, IReadOnlyList<string> prompts)
    {
        var (ids, mask) = ClipWorldBatches.TokenizeWith(tokenizer, prompts);
        var features = model.GetTextFeatures(ids, mask);
        return features / features.norm(-1, keepdim: true);
    }
}
