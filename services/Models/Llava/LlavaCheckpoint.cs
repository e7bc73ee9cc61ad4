using MultiModal.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Llava;

/// <summary>Loads a llava-hf folder (config.json + model.safetensors or a sharded index) into a <see cref="LlavaForConditionalGeneration"/>.</summary>
public static class LlavaCheckpoint
{
    /// <summary>
    /// Builds the model on the meta device and materializes it from the weights on <paramref name="device"/> in
    /// <paramref name="dtype"/>, tensor by tensor (so a 7B model never exists in float32 on the CPU), strictly, accepting both the llava-hf key
    /// layout and the one of transformers ≥ 4.52 (<see cref="KeyRemaps.Llava"/>). Ignored: the vision tower's
    /// non-persistent <c>position_ids</c> of older checkpoints, and a saved <c>lm_head</c> when embeddings are tied.
    /// </summary>
    public static LlavaForConditionalGeneration Load(string folder, Device device, ScalarType dtype)
    {
        var config = LlavaConfig.Load(Path.Combine(folder, "config.json"));
        var checkpoint = SafeTensorsCheckpoint.Open(folder);
        var model = new LlavaForConditionalGeneration(config, META);
        var tied = config.TextConfig.TieWordEmbeddings;
        StateDictLoader.Materialize("LlavaForConditionalGeneration", model, checkpoint, device, dtype, KeyRemaps.Llava(checkpoint.Entries.Keys),
            ignore: key => key.EndsWith("embeddings.position_ids", StringComparison.Ordinal) || (tied && key.EndsWith("lm_head.weight", StringComparison.Ordinal)));
        model.eval();
        return model;
    }
}
