// Port of transformers/models/clip/modeling_clip.py CLIPTextModel at v4.36 (815ea8e8a23a): the text tower alone, as
// Stable Diffusion's text_encoder/ folder stores it (keys text_model.*). Clip skip follows diffusers 0.25.1
// StableDiffusionPipeline.encode_prompt: hidden_states[-(clip_skip + 1)] passed through final_layer_norm.
using MultiModal.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MultiModal.Models.Clip;

/// <summary>transformers' CLIPTextModel: a <see cref="ClipTextTransformer"/> under the key prefix <c>text_model</c>.</summary>
public sealed class ClipTextModel : Module
{
    private readonly ClipTextTransformer text_model;

    public ClipTextConfig Config { get; }

    public ClipTextModel(ClipTextConfig config, Device? device = null) : base(nameof(ClipTextModel))
    {
        config.Validate();
        Config = config;
        text_model = new ClipTextTransformer(config, device);
        RegisterComponents();
    }

    public ClipTextTransformer TextModel => text_model;

    /// <summary>
    /// The prompt embeddings SD conditions on: (B, T, hidden). <paramref name="clipSkip"/> = 0 gives
    /// last_hidden_state; k &gt; 0 gives the output of the layer k before the last, through final_layer_norm (diffusers'
    /// clip_skip). <paramref name="attentionMask"/> is null for SD 1.x/2.x, which call the encoder without it.
    /// </summary>
    public Tensor EncodePrompt(Tensor inputIds, Tensor? attentionMask = null, int clipSkip = 0)
    {
        if (clipSkip < 0 || clipSkip >= Config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(clipSkip), clipSkip,
                $"clip skip must be in [0, {Config.NumHiddenLayers - 1}] for a {Config.NumHiddenLayers}-layer text encoder.");
        if (clipSkip == 0)
        {
            var output = text_model.Forward(inputIds, attentionMask);
            output.PooledOutput.Dispose();
            return output.LastHiddenState;
        }

        var all = text_model.Forward(inputIds, attentionMask, outputHiddenStates: true);
        try
        {
            // HiddenStates = [embeddings, layer 1, ..., layer L]; diffusers takes hidden_states[-(clip_skip + 1)].
            var chosen = all.HiddenStates![all.HiddenStates.Count - 1 - clipSkip];
            return text_model.FinalLayerNorm(chosen);
        }
        finally
        {
            all.LastHiddenState.Dispose();
            all.PooledOutput.Dispose();
            foreach (var h in all.HiddenStates!)
                h.Dispose();
        }
    }

    /// <summary>
    /// Loads a transformers CLIPTextModel folder (<c>config.json</c> + <c>model[.variant].safetensors</c>) strictly on
    /// <paramref name="device"/> in <paramref name="dtype"/>. Files saved by transformers &lt; 4.31 also hold
    /// <c>text_model.embeddings.position_ids</c>, which is not a weight: it is ignored, as transformers does.
    /// </summary>
    public static ClipTextModel Load(string folder, Device device, ScalarType dtype, string? variant = null)
    {
        var config = ClipTextConfig.Load(Path.Combine(folder, "config.json"));
        var checkpoint = SafeTensorsCheckpoint.Open(folder, "model", variant);
        var model = new ClipTextModel(config, META);
        StateDictLoader.Materialize("CLIPTextModel", model, checkpoint, device, dtype,
            ignore: key => key == "text_model.embeddings.position_ids");
        model.eval();
        return model;
    }
}
