using MultiModal.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Clip;

/// <summary>Loads a Hugging Face CLIP folder (config.json + model.safetensors[.index.json]) into a <see cref="ClipModel"/>.</summary>
public static class ClipCheckpoint
{
    /// <summary>
    /// Builds the model from <c>config.json</c> on the meta device and materializes it from the weights, strictly, on
    /// the device in the dtype.
    /// Older checkpoints carry <c>*.embeddings.position_ids</c> buffers, which transformers ≥ 4.31 ignores: so do we.
    /// </summary>
    public static ClipModel Load(string folder, Device device, ScalarType dtype)
    {
        var config = ClipConfig.Load(Path.Combine(folder, "config.json"));
        var checkpoint = SafeTensorsCheckpoint.Open(folder);
        var model = new ClipModel(config, META);
        StateDictLoader.Materialize("CLIPModel", model, checkpoint, device, dtype, ignore: IsIgnorableBuffer);
        if (dtype is ScalarType.BFloat16 or ScalarType.Float16)
        {
            using var stored = checkpoint.Load("logit_scale");
            model.KeepStoredLogitScale(stored);
        }
        model.eval();
        return model;
    }

    private static bool IsIgnorableBuffer(string key) => key.EndsWith("embeddings.position_ids", StringComparison.Ordinal);
}
