using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Llava;
using MultiModal.Training.Vision;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

/// <summary>
/// A LLaVA small enough to train a few steps in a unit test: the vision tower of a <see cref="TinyClip"/> (32 px, 4
/// patches), a 1-layer 32-wide decoder, and its llava-hf folder (SentencePiece tokenizer, 32-px preprocessor).
/// </summary>
internal sealed class TinyVision : IDisposable
{
    private readonly TinyClip _clip;

    public TinyVision(long seed, bool freezeTower = false)
    {
        _clip = new TinyClip(seed);
        Folder = Directory.CreateTempSubdirectory("tiny-vision-").FullName;
        Model = VisionTrainer.Create(_clip.Folder, hidden: 32, layers: 1, freezeTower, seed);
        LlavaKit.WriteFolder(Folder, Model.Config, Model.state_dict(), ScalarType.Float32, "tiny\n");
        Tokenizer = LlamaTokenizer.Load(Folder);
        Batches = new VisionWorldBatches(Tokenizer, ClipImageProcessor.FromFolder(Folder), Model.Config, seed: 1, batchSize: 16);
    }

    public ClipModel Clip => _clip.Model;
    public string Folder { get; }
    public LlavaForConditionalGeneration Model { get; }
    public LlamaTokenizer Tokenizer { get; }
    public VisionWorldBatches Batches { get; }

    public Tensor LossAt(int step) => VisionLoss.Compute(Model, Batches.At(step));

    public void Dispose()
    {
        Model.Dispose();
        _clip.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
