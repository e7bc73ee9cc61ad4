using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Training.Clip;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

/// <summary>A CLIP small enough to train a few steps in a unit test, with its folder (tokenizer, 32-px preprocessor).</summary>
internal sealed class TinyClip : IDisposable
{
    public static readonly ClipConfig Config = new()
    {
        ProjectionDim = 16,
        TextConfig = new() { HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2, ProjectionDim = 16 },
        VisionConfig = new() { HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2, ImageSize = 32, PatchSize = 16, ProjectionDim = 16 },
    };

    public TinyClip(long seed)
    {
        Folder = Directory.CreateTempSubdirectory("tiny-clip-").FullName;
        Model = new ClipModel(Config);
        KitWeights.Randomize(Model, seed);   // its own generator: tests running alongside cannot change the weights
        ClipKit.WriteFolder(Folder, Config, Model.state_dict(), "tiny\n");
        Batches = new ClipWorldBatches(ClipTokenizer.FromFolder(Folder), ClipImageProcessor.FromFolder(Folder), seed: 1, batchSize: 16);
    }

    public string Folder { get; }
    public ClipModel Model { get; }
    public ClipWorldBatches Batches { get; }

    public Tensor LossAt(int step)
    {
        var batch = Batches.At(step);
        return ClipContrastiveLoss.Compute(Model.LogitsPerText(batch.InputIds, batch.AttentionMask, batch.PixelValues), batch.Matches);
    }

    public void Dispose()
    {
        Model.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
