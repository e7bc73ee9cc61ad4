using MultiModal.Models.Pipelines;
using MultiModal.Models.Unet;
using MultiModal.Models.Weights;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>Half-precision loading: *.fp16.safetensors variants, and running the UNet below float32.</summary>
public sealed class ReducedPrecisionTests(TinySdPipelines pipelines, ITestOutputHelper output) : IClassFixture<TinySdPipelines>
{
    [Fact]
    public void LoadUnet_Fp16VariantOnly_LoadsItWhenAskedAndFailsOtherwise()
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var source = Path.Combine(TinySdPipelines.PipelineFolder("tiny-sd"), "unet");
        var folder = Directory.CreateTempSubdirectory("unet-fp16-").FullName;
        try
        {
            var checkpoint = SafeTensorsCheckpoint.Open(source, "diffusion_pytorch_model");
            var half = checkpoint.Entries.Keys.ToDictionary(k => k, k => checkpoint.Load(k).to(ScalarType.Float16));
            SafeTensorsWriter.Write(Path.Combine(folder, "diffusion_pytorch_model.fp16.safetensors"), half);
            File.Copy(Path.Combine(source, "config.json"), Path.Combine(folder, "config.json"));

            Assert.Throws<FileNotFoundException>(() => UNet2DConditionModel.Load(folder, CPU, ScalarType.Float32));
            using var unet = UNet2DConditionModel.Load(folder, CPU, ScalarType.Float32, variant: "fp16");

            // float16-rounded weights computed in float32: close to the golden, not equal to it.
            var golden = pipelines.Golden("tiny-sd");
            var noisePred = unet.Forward(golden["unet.sample"], 999, golden["unet.encoder_hidden_states"]);
            output.WriteLine($"fp16 weights, fp32 compute: max abs diff {DiffAssert.MaxAbs(golden["unet.noise_pred.t999_int"], noisePred)}");
            TensorAssert.Close(golden["unet.noise_pred.t999_int"], noisePred, 2e-2, 2e-2, "noise_pred from fp16 weights");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // The bound comes from diffusers' own bfloat16 run of the same UNet on the same inputs (Fixtures/<name>/
    // bf16_reference.json: per-sample cosine 0.99977–0.99983 to its float32 output, max abs 0.037–0.041). bf16 kernels
    // differ between CPUs, so that error is a scale, not bits: ours may be up to 5× further from float32 in 1 − cosine
    // and 2× in max abs. One wrong op lands far outside: libtorch 2.10's oneDNN bf16 conv_out kernel on AVX-512 (fixed by
    // PortableConv2d) gave 1 − cosine 0.035–0.052 (≈ 200× the reference's), a GroupNorm without its affine or a softmax on
    // the wrong axis in the upcast attention more still.
    private const double CosineErrorScale = 5, MaxAbsScale = 2;

    [Theory]
    [InlineData("tiny-sd")]
    [InlineData("tiny-sd2-v")]   // upcast_attention: attention in float32 inside a bfloat16 model
    public void UNetForward_BFloat16_AsCloseToFloat32AsDiffusersOwnBFloat16(string name)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var unet = StableDiffusionFolder.Open(TinySdPipelines.PipelineFolder(name)).LoadUnet(CPU, ScalarType.BFloat16);
        var golden = pipelines.Golden(name);
        var reference = Bf16Reference.Read(TestPaths.Fixture(name, "bf16_reference.json"));

        var noisePred = unet.Forward(golden["unet.sample"].to(ScalarType.BFloat16), tensor(new float[] { 999f, 1f }),
            golden["unet.encoder_hidden_states"].to(ScalarType.BFloat16));

        Assert.Equal(ScalarType.BFloat16, noisePred.dtype);
        var expected = golden["unet.noise_pred.t999_1_per_sample_float"];
        output.WriteLine($"{name} bfloat16: max abs diff {DiffAssert.MaxAbs(expected, noisePred)} (diffusers' bf16: {reference.MaxAbs:G3})");
        var worstReferenceCosine = reference.PerSampleCosine.Min();
        TensorAssert.RowCosineAtLeast(expected.flatten(1), noisePred.flatten(1),
            1 - CosineErrorScale * (1 - worstReferenceCosine), "bfloat16 noise_pred");
        TensorAssert.Close(expected, noisePred, MaxAbsScale * reference.MaxAbs, 0, "bfloat16 noise_pred");
    }

    private sealed record Bf16Reference(double[] PerSampleCosine, double MaxAbs)
    {
        public static Bf16Reference Read(string path)
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            var root = json.RootElement;
            return new(root.GetProperty("per_sample_cosine_bf16_vs_fp32").EnumerateArray().Select(e => e.GetDouble()).ToArray(),
                root.GetProperty("max_abs_bf16_vs_fp32").GetDouble());
        }
    }
}
