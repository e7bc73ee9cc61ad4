using MultiModal.Models.Clip;

namespace MultiModal.Training.Clip;

/// <summary>The built-in CLIP's shape: a 64-px ViT with 16-px patches (4×4 tokens + CLS: cheap to train, and few image tokens for LLaVA) and a small text transformer over the CLIP BPE.</summary>
public static class ClipWorldConfig
{
    public const int ImageSize = 64;

    public static ClipConfig Create(int patchSize = 16, int visionWidth = 96, int textWidth = 64) => new()
    {
        ProjectionDim = 64,
        // The 49,408-token embedding is most of the text tower (3.2 M of its parameters): kept narrow.
        TextConfig = new() { HiddenSize = textWidth, IntermediateSize = 4 * textWidth, NumHiddenLayers = 3, NumAttentionHeads = 4, ProjectionDim = 64 },
        VisionConfig = new() { HiddenSize = visionWidth, IntermediateSize = 4 * visionWidth, NumHiddenLayers = 4, NumAttentionHeads = 4, ImageSize = ImageSize, PatchSize = patchSize, ProjectionDim = 64 },
    };
}
