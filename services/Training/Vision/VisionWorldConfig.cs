using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Llava;

namespace MultiModal.Training.Vision;

/// <summary>
/// The built-in LLaVA's shape: the trained CLIP's vision tower as it is (its patches' rows, and the CLS row with the "full" strategy), a
/// projector and a small Llama decoder over the repository's 1538-token SentencePiece vocabulary (LlavaKit's tokenizer).
/// </summary>
public static class VisionWorldConfig
{
    public static LlavaConfig Create(ClipVisionConfig vision, int hidden = 128, int layers = 2, string featureStrategy = "default") => new()
    {
        VisionConfig = vision,
        TextConfig = new()
        {
            VocabSize = LlavaKit.TokenizerSize, HiddenSize = hidden, IntermediateSize = 2 * hidden, NumHiddenLayers = layers,
            NumAttentionHeads = 4, NumKeyValueHeadsRaw = 2, MaxPositionEmbeddings = 256, RmsNormEps = 1e-5, PadTokenId = LlavaKit.PadTokenId,
        },
        // Every layer of the small tower: its last layer is where a 4-layer ViT has formed shape features.
        VisionFeatureLayer = -1,
        // "default" drops the CLS row (LLaVA-1.5); "full" keeps it: the row CLIP's contrastive training summarised the image in.
        VisionFeatureSelectStrategy = featureStrategy,
        ImageTokenIndex = LlavaKit.ImageTokenId,
        PadTokenId = LlavaKit.PadTokenId,
    };
}
