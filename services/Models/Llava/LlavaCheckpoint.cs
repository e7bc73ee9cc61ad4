using MultiModal.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Llava;

/// <summary>Loads a llava-hf folder (config.json + model.safetensors or a sharded index) into a <see cref="LlavaForConditionalGeneration"/>.</summary>
public static class LlavaCheckpoint
{
    /// <summary>
    /// Builds the model on <paramref name="device"/> in <paramref name="dtype"/> (parameters are created there directly,
    /// so a 7B model never exists in float32 on the CPU) and loads the weights strictly, accepting both the llava-hf key
    /// layout and the one of transformers ≥ 4.52 (<see cref="KeyRemaps.Llava"/>). Ignored: the vision tower's
    /// non-persistent <c>position_ids</c> of older checkpoints, and a saved <c>lm_head</c> when embeddings are tied.
    /// </summary>
    public static LlavaForConditionalGeneration Load(string folder, Device device, ScalarType dtype)
    {
        var config = LlavaConfig.Load(Path.Combine(folder, "config.json"));
        var checkpoint = SafeTensorsCheckpoint.Open(folder);
        var previous = get_default_dtype();
        LlavaForConditionalGeneration model;
        try
        {
            set_default_dtype(dtype);
            model = new LlavaForConditionalGeneration(config, device);
        }
        finally
        {
            set_default_dtype(previous);
        }
        var tied = config.TextConfig.TieWordEmbeddings;
        StateDictLoader.LoadStrict("LlavaForConditionalGeneration", model, checkpoint, KeyRemaps.Llava(checkpoint.Entries.Keys),
            ignore: key => key.EndsWith("embeddings.position_ids", StringComparison.Ordinal) || (tied && key.EndsWith("lm_head.weight", StringComparison.Ordinal)));
        model.eval();
        return model;
    }
}
