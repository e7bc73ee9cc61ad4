namespace MultiModal.Models.Imaging;

/// <summary>
/// Pillow's resampling filters, numbered like <c>PIL.Image.Resampling</c> (the <c>resample</c> integer in HF
/// preprocessor configs). NEAREST (0) is not here: Pillow implements it with a different algorithm (an affine
/// transform), which <see cref="PilResize"/> does not port.
/// </summary>
public enum PilResample
{
    /// <summary>Truncated sinc, a = 3 (PIL.Image.LANCZOS = 1).</summary>
    Lanczos = 1,
    /// <summary>Triangle filter, support 1 (PIL.Image.BILINEAR = 2).</summary>
    Bilinear = 2,
    /// <summary>Keys cubic with a = -0.5, support 2 (PIL.Image.BICUBIC = 3): what CLIP-style processors use.</summary>
    Bicubic = 3,
    /// <summary>Box filter, support 0.5 (PIL.Image.BOX = 4).</summary>
    Box = 4,
    /// <summary>Hamming-windowed sinc, support 1 (PIL.Image.HAMMING = 5).</summary>
    Hamming = 5,
}
