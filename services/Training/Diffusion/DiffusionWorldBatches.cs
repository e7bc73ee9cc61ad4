using MultiModal.Models.Clip;
using MultiModal.ShapesWorld;
using static TorchSharp.torch;

namespace MultiModal.Training.Diffusion;

/// <summary>
/// Step <c>s</c>'s batch: scenes <c>s·B … s·B + B − 1</c> of the training set (seed), rendered at the autoencoder's size
/// and scaled to [-1, 1] as diffusers' VaeImageProcessor does, each with one of its caption paraphrases that name both
/// its color and its shape (a caption such as "a large shape" would teach the UNet to ignore the text) tokenized as the
/// pipeline tokenizes a prompt (padded to 77 with end-of-text, no attention mask). A tenth of the captions are empty, so
/// the UNet also learns the unconditional prediction classifier-free guidance subtracts.
/// </summary>
public sealed class DiffusionWorldBatches(ClipTokenizer tokenizer, int imageSize, int seed, int batchSize, double emptyCaptionRate = 0.1)
{
    /// <param name="Images">(B, 3, S, S) in [-1, 1].</param>
    /// <param name="PromptIds">(B, 77) token ids.</param>
    public sealed record Batch(Tensor Images, Tensor PromptIds, IReadOnlyList<string> Captions);

    public Batch At(int step)
    {
        var scenes = SceneSampler.Scenes(seed, (long)step * batchSize, batchSize).ToList();
        var draw = new Random(HashCode.Combine(seed, step, 0xD1FF));
        var captions = scenes.Select(s =>
        {
            var all = WorldCaptions.All(s).Where(c => c.Color is not null && c.Shape is not null).ToList();
            var caption = all[draw.Next(all.Count)].Text;
            return draw.NextDouble() < emptyCaptionRate ? "" : caption;
        }).ToList();
        return new Batch(Images(scenes), PromptIds(captions), captions);
    }

    /// <summary>Scenes rendered at <c>imageSize</c>: (B, 3, S, S), each byte v as v / 127.5 − 1.</summary>
    public Tensor Images(IReadOnlyList<WorldScene> scenes)
    {
        var plane = imageSize * imageSize;
        var data = new float[scenes.Count * 3 * plane];
        for (var n = 0; n < scenes.Count; n++)
        {
            var rgb = SceneRenderer.RenderRgb(scenes[n], imageSize);                                  // HWC bytes
            for (var i = 0; i < plane; i++)
                for (var c = 0; c < 3; c++)
                    data[(n * 3 + c) * plane + i] = rgb[i * 3 + c] / 127.5f - 1f;
        }
        return tensor(data, [scenes.Count, 3, imageSize, imageSize]);
    }

    /// <summary>Prompts as the pipeline encodes them: (B, 77), padded with end-of-text.</summary>
    public Tensor PromptIds(IReadOnlyList<string> prompts)
    {
        var rows = prompts.Select(p => tokenizer.ToPaddedIds(tokenizer.Encode(p), out _)).ToList();
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Count, rows[0].Length]);
    }
}
