using MultiModal.Models.Layers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Layers;

/// <summary>
/// PortableConv2d in bfloat16/float16 against the same module in float32 on the same (half-rounded) input, for the
/// output-channel counts that libtorch 2.10's oneDNN AVX-512 bf16 kernels get wrong (not a multiple of 16) and those
/// they get right. The bound is arithmetic: rounding inputs, weights and output to bf16 (unit roundoff 2⁻⁸) moves a
/// k×k convolution's output by ~0.3 % per element, i.e. 1 − cosine ≈ 1e-5; 1e-4 leaves 10× room, while the wrong
/// kernel gave 1 − cosine 0.01–0.2 on AMD Zen 5 (k=3, Cout 3–40, Cin 4–64).
/// </summary>
public sealed class PortableConv2dTests
{
    public static TheoryData<ScalarType, long, long, long> Shapes()
    {
        var data = new TheoryData<ScalarType, long, long, long>();
        foreach (var dtype in new[] { ScalarType.BFloat16, ScalarType.Float16 })
            foreach (var kernel in new long[] { 1, 3 })
                foreach (var (inChannels, outChannels) in new (long, long)[] { (4, 4), (32, 3), (32, 4), (64, 8), (4, 17), (32, 16), (64, 40) })
                    data.Add(dtype, kernel, inChannels, outChannels);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_HalfPrecisionOnCpu_MatchesFloat32WithinRounding(ScalarType dtype, long kernel, long inChannels, long outChannels)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        manual_seed(7);
        using var full = new PortableConv2d(inChannels, outChannels, kernel, padding: kernel / 2);
        using var half = new PortableConv2d(inChannels, outChannels, kernel, padding: kernel / 2);
        half.load_state_dict(full.state_dict());
        half.to(dtype);
        full.load_state_dict(half.state_dict().ToDictionary(p => p.Key, p => p.Value.to(ScalarType.Float32)));
        var input = randn(2, inChannels, 16, 16).to(dtype);

        var expected = full.call(input.to(ScalarType.Float32));
        var actual = half.call(input);

        Assert.Equal(dtype, actual.dtype);
        var e = expected.flatten().to(ScalarType.Float64);
        var a = actual.flatten().to(ScalarType.Float64);
        var cosine = (e.dot(a) / (e.norm() * a.norm())).item<double>();
        Assert.True(1 - cosine <= 1e-4, $"{dtype} k{kernel} {inChannels}→{outChannels}: 1 − cosine {1 - cosine:G3} > 1e-4");
    }

    // Training: libtorch 2.10's float32 convolution backward on AVX-512 (oneDNN, AMD Zen 5) gave NaN input gradients,
    // at random, for output channels not a multiple of 16 (the UNet's 4-channel conv_out: a training step's every
    // gradient upstream of it NaN in about one process of three). Fresh tensors each round so stale memory differs.
    // Bound: each input-gradient element sums Cout·k² ≤ 144 products |w·g| ≲ 0.06·4 in float32 (unit roundoff 2⁻²⁴), an
    // error ≲ 144·0.24·2⁻²⁴ ≈ 2e-6 on any CPU; 1e-4 leaves 50× room, the wrong kernel was off by 0.3.
    [Theory]
    [InlineData(32L, 4L, 3L)]
    [InlineData(32L, 3L, 3L)]
    [InlineData(64L, 8L, 1L)]
    [InlineData(32L, 16L, 3L)]
    public void Backward_Float32OnCpu_GradientsMatchFloat64(long inChannels, long outChannels, long kernel)
    {
        for (var round = 0; round < 20; round++)
        {
            using var scope = NewDisposeScope();
            manual_seed(100 + round);
            using var conv = new PortableConv2d(inChannels, outChannels, kernel, padding: kernel / 2);
            var input = randn(8, inChannels, 4, 4).requires_grad_(true);
            var upstream = randn(8, outChannels, 4, 4);
            (conv.call(input) * upstream).sum().backward();

            var weight = conv.state_dict()["weight"].detach().to(ScalarType.Float64);
            var input64 = input.detach().to(ScalarType.Float64).requires_grad_(true);
            (nn.functional.conv2d(input64, weight, padding: [kernel / 2, kernel / 2]) * upstream.to(ScalarType.Float64)).sum().backward();

            var grad = input.grad!;
            Assert.True(grad.isfinite().all().item<bool>(), $"round {round}: non-finite input gradient ({inChannels}→{outChannels}, k{kernel})");
            var error = (grad.to(ScalarType.Float64) - input64.grad!).abs().max().item<double>();
            Assert.True(error <= 1e-4, $"round {round}: input gradient off by {error:G3} ({inChannels}→{outChannels}, k{kernel})");
        }
    }

    [Fact]
    public void Parameters_StateDictKeysAndDefaultInit_AsTorchConv2d()
    {
        using var conv = new PortableConv2d(8, 4, 3, padding: 1);
        using var plain = new PortableConv2d(8, 4, 3, padding: 1, bias: false);

        Assert.Equal(["weight", "bias"], conv.state_dict().Keys);
        Assert.Equal(["weight"], plain.state_dict().Keys);
        Assert.Equal([4L, 8, 3, 3], conv.state_dict()["weight"].shape);
        var bound = 1 / Math.Sqrt(8 * 3 * 3);   // kaiming_uniform_(a=√5) = U(±1/√fan_in), as the bias
        Assert.True(conv.state_dict()["weight"].abs().max().item<float>() <= bound);
        Assert.True(conv.state_dict()["bias"].abs().max().item<float>() <= bound);
        Assert.True(conv.state_dict()["weight"].std().item<float>() > bound / 4);   // drawn, not zeros
    }
}
