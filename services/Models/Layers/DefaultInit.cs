using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Layers;

/// <summary>
/// torch.nn.Linear's and Conv2d's reset_parameters: kaiming_uniform_(a=√5) on the weight and U(±1/√fan_in) on the bias,
/// which both come to U(±1/√fan_in). Skipped on the meta device, where the loader materializes every parameter.
/// </summary>
internal static class DefaultInit
{
    public static void Uniform(Tensor weight, Tensor? bias, long fanIn)
    {
        if (weight.device_type == DeviceType.META)
            return;
        using var _ = no_grad();
        var bound = 1.0 / Math.Sqrt(fanIn);
        weight.uniform_(-bound, bound);
        bias?.uniform_(-bound, bound);
    }
}
