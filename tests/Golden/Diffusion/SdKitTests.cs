using MultiModal.ModelKit;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>The model kit's SD folders: diffusers layout, deterministic, loadable and runnable by the pipeline.</summary>
public sealed class SdKitTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sdkit-").FullName;

    [Fact]
    public void Write_TinyPreset_LoadsAndGeneratesAt128()
    {
        var folder = Path.Combine(_root, "tiny");
        SdKit.Write(folder, "tiny", seed: 0);

        using var pipeline = StableDiffusionPipeline.Load(folder, CPU, ScalarType.Float32);
        var request = new GenerationRequest("a red cube", "blurry", 0, 0, 2, 7.5, [1, 2], SchedulerKind.Default, null, 0,
            new PreviewRequest(1, PreviewKind.Approximate, 0));
        var previews = new List<PreviewFrame>();
        var output = pipeline.Generate(request, s => previews.Add(s.Preview!), CancellationToken.None);

        Assert.Equal((128, 128), (pipeline.NativeWidth, pipeline.NativeHeight));
        Assert.Equal(SchedulerKind.Pndm, pipeline.DefaultScheduler);
        Assert.Equal("epsilon", pipeline.PredictionType);
        Assert.Equal(2, output.StepsRun);                                  // PNDM: 2 steps (3 UNet evaluations)
        Assert.Equal(2, previews.Count);
        Assert.Equal(2, output.Images.Count);
        Assert.All(output.Images, i => Assert.Equal((128, 128), (i.Width, i.Height)));
        Assert.NotEqual(output.Images[0].Rgb, output.Images[1].Rgb);
        Assert.All(previews, p => Assert.Equal((16, 16), (p.Images[0].Width, p.Images[0].Height)));   // latents are 1/8
    }

    [Fact]
    public void Write_SameSeedTwice_WritesIdenticalWeights()
    {
        SdKit.Write(Path.Combine(_root, "a"), "tiny", seed: 3);
        SdKit.Write(Path.Combine(_root, "b"), "tiny", seed: 3);

        foreach (var file in new[] { "unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors",
                     "text_encoder/model.safetensors", "unet/config.json", "model_index.json", "scheduler/scheduler_config.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(_root, "a", file)), File.ReadAllBytes(Path.Combine(_root, "b", file)));
    }

    [Fact]
    public void Presets_Sd15_HasStableDiffusion15Shapes()
    {
        var sd15 = SdKit.Presets["sd15"];

        Assert.Equal([320, 640, 1280, 1280], sd15.Unet.BlockOutChannels);
        Assert.Equal(["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"], sd15.Unet.DownBlockTypes);
        Assert.Equal(64, sd15.Unet.SampleSize);
        Assert.Equal(8, sd15.Vae.ScaleFactor);
        Assert.Equal(768, sd15.TextEncoder.HiddenSize);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
