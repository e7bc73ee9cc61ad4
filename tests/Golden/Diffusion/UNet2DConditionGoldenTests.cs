using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>
/// diffusers 0.25.1 UNet2DConditionModel outputs for the golden latents and text embeddings, for every way the
/// timestep can be given (golden.json → unet_timestep_cases). tiny-sd: conv projections, attention_head_dim 8 as the
/// number of heads; tiny-sd2-v: linear projections, upcast_attention, per-block heads (2, 4).
/// </summary>
public sealed class UNet2DConditionGoldenTests(TinySdPipelines pipelines, ITestOutputHelper output) : IClassFixture<TinySdPipelines>
{
    [Theory]
    [InlineData("tiny-sd", "t999_int")]
    [InlineData("tiny-sd", "t1_tensor1")]
    [InlineData("tiny-sd", "t999_1_per_sample_float")]
    [InlineData("tiny-sd", "t500p5_float_0dim")]
    [InlineData("tiny-sd", "t250_int64_0dim")]
    [InlineData("tiny-sd2-v", "t999_int")]
    [InlineData("tiny-sd2-v", "t1_tensor1")]
    [InlineData("tiny-sd2-v", "t999_1_per_sample_float")]
    [InlineData("tiny-sd2-v", "t500p5_float_0dim")]
    [InlineData("tiny-sd2-v", "t250_int64_0dim")]
    public void Forward_GoldenLatentsAndTimestep_MatchesDiffusersNoisePrediction(string name, string timestepCase)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var golden = pipelines.Golden(name);
        var unet = pipelines.Models(name).Unet;
        var sample = golden["unet.sample"];
        var context = golden["unet.encoder_hidden_states"];

        var noisePred = timestepCase switch
        {
            "t999_int" => unet.Forward(sample, 999, context),                                          // Python int
            "t1_tensor1" => unet.Forward(sample, tensor(new long[] { 1 }), context),                  // (1) int64, broadcast
            "t999_1_per_sample_float" => unet.Forward(sample, tensor(new float[] { 999f, 1f }), context), // one per row
            "t500p5_float_0dim" => unet.Forward(sample, tensor(500.5f), context),                      // 0-dim, fractional
            "t250_int64_0dim" => unet.Forward(sample, tensor(250L), context),                          // 0-dim int64
            _ => throw new ArgumentOutOfRangeException(nameof(timestepCase)),
        };

        var expected = golden[$"unet.noise_pred.{timestepCase}"];
        output.WriteLine($"{name} unet.noise_pred.{timestepCase} max abs diff {DiffAssert.MaxAbs(expected, noisePred)}");
        TensorAssert.Close(expected, noisePred, TinySdPipelines.Atol, TinySdPipelines.Rtol, $"unet.noise_pred.{timestepCase}");
    }

    [Fact]
    public void Forward_WrongCrossAttentionWidth_ThrowsNamingTheShape()
    {
        using var scope = NewDisposeScope();
        var unet = pipelines.Models("tiny-sd").Unet;

        var ex = Assert.Throws<ArgumentException>(() => unet.Forward(zeros(1, 4, 8, 8), 10, zeros(1, 77, 48)));

        Assert.Contains("encoder_hidden_states", ex.Message);
    }

    [Fact]
    public void Forward_LatentSizeNotMultipleOfTwo_UpsamplesToSkipSizes()
    {
        // 9×7 latents: the single upsampler must produce the skip connection's 5×4 → 9×7 sizes (diffusers' upsample_size).
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var unet = pipelines.Models("tiny-sd").Unet;
        var context = pipelines.Golden("tiny-sd")["unet.encoder_hidden_states"];

        var noisePred = unet.Forward(randn(2, 4, 9, 7, generator: new Generator(0)), 500, context);

        Assert.Equal(new long[] { 2, 4, 9, 7 }, noisePred.shape);
        Assert.False(noisePred.isnan().any().item<bool>());
    }
}
