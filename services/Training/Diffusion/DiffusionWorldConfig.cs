using MultiModal.Models.Unet;
using MultiModal.Models.Vae;

namespace MultiModal.Training.Diffusion;

/// <summary>
/// Shapes of a Stable Diffusion pipeline small enough to train on the shapes world on a CPU: an AutoencoderKL with a
/// VAE factor of 4 (three levels) and a two-level UNet2DConditionModel (one cross-attention level, one plain) whose
/// cross-attention width is the text tower's, both in diffusers' layout so the Diffusion service loads them.
/// GroupNorm removes each group's mean over the image: with one channel per group (SD's 32 groups at these widths) a
/// flat background's color cannot pass through a norm, so the world's models use few groups of many channels.
/// </summary>
public static class DiffusionWorldConfig
{
    /// <summary>The autoencoder for <paramref name="imageSize"/>-pixel RGB images; 4 latent channels.</summary>
    public static AutoencoderKLConfig Vae(int imageSize, int width, int groups) => new()
    {
        SampleSize = imageSize,
        BlockOutChannels = [width, 2 * width, 2 * width],
        DownBlockTypes = ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
        UpBlockTypes = ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
        LayersPerBlock = 1,
        NormNumGroups = groups,
    };

    /// <summary>The denoiser over the autoencoder's latents, conditioned on text states <paramref name="crossAttentionDim"/> wide.</summary>
    public static UNet2DConditionConfig Unet(int latentSize, int width, int crossAttentionDim, int groups, int layersPerBlock = 1) => new()
    {
        SampleSize = latentSize,
        BlockOutChannels = [width, 2 * width],
        LayersPerBlock = new(layersPerBlock),
        DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"],
        UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
        CrossAttentionDim = new(crossAttentionDim),
        AttentionHeadDim = new(8),
        NormNumGroups = groups,
    };
}
