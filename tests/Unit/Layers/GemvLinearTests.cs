using MultiModal.Models.Layers;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Layers;

/// <summary>
/// GemvLinear's bfloat16 CPU kernel (decode-shaped products, 1-2 rows) against the exact product in float64 of the same
/// bfloat16 inputs and weights. The bound is arithmetic, not measured: the kernel accumulates in float32 (error ≤
/// k·2⁻²⁴·Σ|x·w| for any summation order) and rounds once to bfloat16 (≤ 2⁻⁸·|y|); the test allows twice each. Shapes
/// cover the vector loop, the scalar tails (k not a multiple of 32, odd k), n not a multiple of the 128-row tasks, one
/// and two threads; Project (several layers of one input in one pass) against each layer's own call.
/// </summary>
public sealed class GemvLinearTests
{
    public static TheoryData<long[], long, long, bool> Shapes()
    {
        var data = new TheoryData<long[], long, long, bool>();
        foreach (var rows in new long[][] { [1], [1, 1], [2], [1, 2] })
            foreach (var (n, k) in new (long, long)[] { (1, 2), (5, 70), (7, 71), (130, 64), (515, 300), (259, 2048) })
                data.Add(rows, n, k, n % 2 == 1);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Linear_Bf16DecodeShapes_MatchesFloat64ProductWithinRounding(long[] leading, long n, long k, bool withBias)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        manual_seed(11);
        var weight = randn(n, k).to(ScalarType.BFloat16);
        var bias = withBias ? randn(n).to(ScalarType.BFloat16) : null;
        var input = randn([.. leading, k]).to(ScalarType.BFloat16);
        Assert.True(GemvLinear.TakesCpuGemv(input, weight));

        foreach (var threads in new[] { 1, 2 })
        {
            var before = get_num_threads();
            set_num_threads(threads);
            Tensor actual;
            try { actual = GemvLinear.Linear(input, weight, bias); }
            finally { set_num_threads(before); }

            Assert.Equal(ScalarType.BFloat16, actual.dtype);
            Assert.Equal([.. leading, n], actual.shape);
            var x = input.reshape(-1, k).to(ScalarType.Float64);
            var w = weight.to(ScalarType.Float64);
            var exact = x.matmul(w.t());
            var magnitude = x.abs().matmul(w.abs().t());
            if (bias is not null)
            {
                exact = exact + bias.to(ScalarType.Float64);
                magnitude = magnitude + bias.to(ScalarType.Float64).abs();
            }
            var bound = 2 * k * Math.Pow(2, -24) * magnitude + 2 * Math.Pow(2, -8) * exact.abs() + 1e-30;
            var error = (actual.reshape(-1, n).to(ScalarType.Float64) - exact).abs();
            var worst = (error / bound).max().item<double>();
            Assert.True(worst <= 1, $"rows {string.Join('x', leading)}, n {n}, k {k}, {threads} thread(s): error {worst:F2}× the bound");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1)]
    [InlineData(ScalarType.BFloat16, 3)]
    public void Linear_NotDecodeShapedBf16_IsFunctionalLinear(ScalarType dtype, long rows)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        manual_seed(3);
        var weight = randn(9, 40).to(dtype);
        var bias = randn(9).to(dtype);
        var input = randn(rows, 40).to(dtype);

        Assert.False(GemvLinear.TakesCpuGemv(input, weight));
        Assert.True(GemvLinear.Linear(input, weight, bias).equal(nn.functional.linear(input, weight, bias)).all().item<bool>());
    }

    [Theory]
    [InlineData(ScalarType.BFloat16, 1)]
    [InlineData(ScalarType.BFloat16, 2)]
    [InlineData(ScalarType.Float32, 1)]
    public void Project_SeveralLayersOfOneInput_EqualsEachLayersOwnCall(ScalarType dtype, long rows)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        manual_seed(5);
        // q, k, v shaped: a big layer, two small ones (one with a bias), so tasks of different layers share the threads.
        var layers = new[] { new GemvLinear(300, 515), new GemvLinear(300, 130, hasBias: false), new GemvLinear(300, 7) };
        foreach (var layer in layers) layer.to(dtype);
        var input = randn(rows, 1, 300).to(dtype);

        var projected = GemvLinear.Project(input, layers);

        Assert.Equal(dtype == ScalarType.BFloat16, GemvLinear.TakesCpuGemv(input, layers[0].Weight));
        Assert.Equal(layers.Length, projected.Length);
        for (var i = 0; i < layers.Length; i++)
            Assert.True(projected[i].equal(layers[i].call(input)).all().item<bool>(), $"layer {i}");
    }

    [Fact]
    public void Parameters_StateDictKeysAndShapes_AsTorchLinear()
    {
        using var linear = new GemvLinear(8, 4);
        using var plain = new GemvLinear(8, 4, hasBias: false);

        Assert.Equal(["weight", "bias"], linear.state_dict().Keys);
        Assert.Equal(["weight"], plain.state_dict().Keys);
        Assert.Equal([4L, 8], linear.state_dict()["weight"].shape);
        var bound = 1 / Math.Sqrt(8);
        Assert.True(linear.state_dict().Values.All(p => p.abs().max().item<float>() <= bound));
    }
}
