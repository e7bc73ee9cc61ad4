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

    [Theory]
    [InlineData("tiny-sd")]
    [InlineData("tiny-sd2-v")]   // upcast_attention: attention in float32 inside a bfloat16 model
    public void UNetForward_BFloat16_StaysCloseToFloat32Golden(string name)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        using var unet = StableDiffusionFolder.Open(TinySdPipelines.PipelineFolder(name)).LoadUnet(CPU, ScalarType.BFloat16);
        var golden = pipelines.Golden(name);

        var noisePred = unet.Forward(golden["unet.sample"].to(ScalarType.BFloat16), tensor(new float[] { 999f, 1f }),
            golden["unet.encoder_hidden_states"].to(ScalarType.BFloat16));

        Assert.Equal(ScalarType.BFloat16, noisePred.dtype);
        var expected = golden["unet.noise_pred.t999_1_per_sample_float"];
        output.WriteLine($"{name} bfloat16: max abs diff {DiffAssert.MaxAbs(expected, noisePred)}");
        // bfloat16 keeps 8 significant bits (≈ 0.4 % per rounding): a loose bound, but a wrong op moves values by ≫ 0.1.
        TensorAssert.RowCosineAtLeast(expected.flatten(1), noisePred.flatten(1), 0.999, "bfloat16 noise_pred");
        TensorAssert.Close(expected, noisePred, 0.1, 0.05, "bfloat16 noise_pred");
    }
}
