using MultiModal.Models.Weights;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Layers;

/// <summary>
/// Channels-last ("NHWC") memory under the usual (B, C, H, W) shape, as <c>torch.channels_last</c>: strides
/// (H·W·C, 1, W·C, C). libtorch picks its memory format from the strides, so a convolution whose weight is channels-last
/// runs oneDNN's NHWC kernels and hands back a channels-last output, which GroupNorm, SiLU, adds, nearest upsampling
/// and concatenation keep: the whole UNet/VAE then runs without layout conversions.
/// </summary>
/// <remarks>
/// Measured (2026-12-06, AMD Zen 5, 2 threads, float32, oneDNN through libtorch 2.10): the SD VAE decoder's 3×3
/// convolutions at 128²–512² run at 278–351 GFLOP/s channels-last against 228–297 in NCHW; the UNet's smaller ones
/// within noise of each other (tests/Bench/README.md, "Against ONNX Runtime"). Numbers are the same products summed
/// by other kernels: golden tests hold at their tolerances.
/// </remarks>
public static class ChannelsLast
{
    /// <summary>A channels-last copy of a 4-D tensor (a view of the same memory when it is channels-last already).</summary>
    public static Tensor Of(Tensor x)
    {
        using var nhwc = x.permute(0, 2, 3, 1);
        using var dense = nhwc.contiguous();
        return dense.permute(0, 3, 1, 2);
    }

    /// <summary>
    /// Whether a 4-D tensor's memory is channels-last (C the fastest dimension, then W, H, B), judged as libtorch does:
    /// dimensions of size 1 have no say, so a 1×1 kernel's weight is both NCHW and channels-last.
    /// </summary>
    public static bool Is(Tensor x)
    {
        if (x.dim() != 4)
            return false;
        using var nhwc = x.permute(0, 2, 3, 1);
        return nhwc.is_contiguous();
    }

    /// <summary>
    /// Gives every 4-D parameter of <paramref name="model"/> (the convolution weights) channels-last memory, on the CPU,
    /// where the measurement above was made; other devices keep the loaded layout.
    /// </summary>
    public static void UseForConvolutions(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (_, owner) in model.named_modules().ToList())
            foreach (var (name, parameter) in owner.named_parameters(recurse: false).ToList())
            {
                if (parameter.dim() != 4 || parameter.device_type != DeviceType.CPU || Is(parameter))
                    continue;
                ModuleParameters.Replace(owner, name, new Parameter(Of(parameter), parameter.requires_grad));
                parameter.Dispose();
            }
    }
}
