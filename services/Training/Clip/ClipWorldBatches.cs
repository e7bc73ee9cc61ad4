using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.ShapesWorld;
using static TorchSharp.torch;

namespace MultiModal.Training.Clip;

/// <summary>
/// Step <c>s</c>'s batch: scenes <c>s·B … s·B + B − 1</c> of the training set (seed), each rendered and preprocessed as
/// the CLIP service does, and three texts per scene: one of its paraphrases, one that names only its shape ("a circle")
/// and one that names only its color ("a red shape"). The single-attribute texts make each batch hold a 4-way shape and
/// an 8-way color task besides the caption task: with paraphrases alone the easy color signal dominated and shape stayed
/// near chance (34 % after 500 steps). Targets: text j matches every image of the batch whose scene has all the
/// attributes j states (a "red circle" text also describes the other red circles), so true pairs are not pushed apart.
/// </summary>
/// <param name="shapeTexts">Appends the four shape texts ("a circle", "a square", ...) after the captions, for the 4-way
/// shape term of the loss (every image against all four shapes: same-color different-shape negatives in every batch).</param>
public sealed class ClipWorldBatches(ClipTokenizer tokenizer, ClipImageProcessor processor, int seed, int batchSize, bool shapeTexts = false)
{
    /// <param name="Matches">(captions, B): rows of the captions only (the shape texts, if any, come after them).</param>
    /// <param name="ShapeLabels">(B) each image's shape index in <see cref="WorldVocabulary.Shapes"/>.</param>
    public sealed record Batch(Tensor PixelValues, Tensor InputIds, Tensor AttentionMask, Tensor Matches, Tensor ShapeLabels);

    /// <summary>Texts per image in a batch.</summary>
    public const int TextsPerImage = 3;

    public Batch At(int step)
    {
        var scenes = SceneSampler.Scenes(seed, (long)step * batchSize, batchSize).ToList();
        var draw = new Random(HashCode.Combine(seed, step, 0x0C11));
        WorldCaption Pick(IReadOnlyList<WorldCaption> from) => from[draw.Next(from.Count)];
        var captions = scenes.SelectMany(s =>
        {
            var all = WorldCaptions.All(s);
            return new[]
            {
                Pick(all),
                Pick(all.Where(c => c.Shape is not null && c.Color is null && c.Size is null && c.Background is null).ToList()),
                Pick(all.Where(c => c.Color is not null && c.Shape is null && c.Size is null && c.Background is null).ToList()),
            };
        }).ToList();
        var matches = new float[captions.Count * batchSize];   // (text j, image i)
        for (var j = 0; j < captions.Count; j++)
            for (var i = 0; i < batchSize; i++)
                matches[j * batchSize + i] = captions[j].Describes(scenes[i]) ? 1 : 0;
        var texts = captions.Select(c => c.Text).ToList();
        if (shapeTexts)
            texts.AddRange(WorldVocabulary.Shapes.Select(s => "a " + WorldVocabulary.Name(s)));
        var (ids, mask) = Tokenize(texts);
        var labels = scenes.Select(s => (long)s.Shape).ToArray();
        return new Batch(Pixels(scenes), ids, mask, tensor(matches, [captions.Count, batchSize]), tensor(labels));
    }

    /// <summary>Scenes rendered at the model's image size and preprocessed: (B, 3, S, S).</summary>
    public Tensor Pixels(IReadOnlyList<WorldScene> scenes)
    {
        var size = processor.ImageSize;
        var plane = 3 * size * size;
        var data = new float[scenes.Count * plane];
        for (var n = 0; n < scenes.Count; n++)
            processor.PreprocessInto(new DecodedImage(size, size, SceneRenderer.RenderRgb(scenes[n], size)), data.AsSpan(n * plane, plane));
        return tensor(data, [scenes.Count, 3, size, size]);
    }

    /// <summary>Token ids padded to the longest text (pad = end-of-text) and the attention mask, as the service batches texts.</summary>
    public (Tensor InputIds, Tensor AttentionMask) Tokenize(IReadOnlyList<string> texts) => TokenizeWith(tokenizer, texts);

    public static (Tensor InputIds, Tensor AttentionMask) TokenizeWith(ClipTokenizer tokenizer, IReadOnlyList<string> texts)
    {
        var encoded = texts.Select(t => tokenizer.Encode(t).Ids).ToList();
        var length = encoded.Max(e => e.Length);
        var ids = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        Array.Fill(ids, tokenizer.PadTokenId);
        for (var row = 0; row < encoded.Count; row++)
            for (var col = 0; col < encoded[row].Length; col++)
                (ids[row * length + col], mask[row * length + col]) = (encoded[row][col], 1);
        return (tensor(ids, [texts.Count, length]), tensor(mask, [texts.Count, length]));
    }
}
