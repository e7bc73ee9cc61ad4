using MultiModal.Models.Vae;
using MultiModal.Models.Weights;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>diffusers 0.25.1 AutoencoderKL: decode of the golden latents, encode posterior of the golden images.</summary>
public sealed class AutoencoderKLGoldenTests(TinySdPipelines pipelines, ITestOutputHelper output) : IClassFixture<TinySdPipelines>
{
    private const double Atol = TinySdPipelines.Atol, Rtol = TinySdPipelines.Rtol;

    [Theory]
    [InlineData("tiny-sd")]
    [InlineData("tiny-sd2-v")]
    public void Decode_GoldenLatentsOverScalingFactor_MatchesDiffusers(string name)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var golden = pipelines.Golden(name);
        var vae = pipelines.Models(name).Vae;

        var decoded = vae.Decode(golden["vae.decode_input"]);

        TensorAssert.Close(golden["vae.latents"] / vae.Config.ScalingFactor, golden["vae.decode_input"], 1e-6, 1e-6, "decode_input = latents / s");
        output.WriteLine($"{name} vae.decoded max abs diff {DiffAssert.MaxAbs(golden["vae.decoded"], decoded)}");
        TensorAssert.Close(golden["vae.decoded"], decoded, Atol, Rtol, "vae.decoded");
    }

    [Theory]
    [InlineData("tiny-sd")]
    [InlineData("tiny-sd2-v")]
    public void Encode_GoldenImages_MatchesLatentDistribution(string name)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var golden = pipelines.Golden(name);
        var vae = pipelines.Models(name).Vae;

        using var posterior = vae.Encode(golden["vae.encode_input"]);

        foreach (var (key, actual) in new[]
        {
            ("vae.latent_dist.parameters", posterior.Parameters), ("vae.latent_dist.mean", posterior.Mean),
            ("vae.latent_dist.logvar", posterior.LogVar), ("vae.latent_dist.std", posterior.Std),
        })
        {
            output.WriteLine($"{name} {key} max abs diff {DiffAssert.MaxAbs(golden[key], actual)}");
            TensorAssert.Close(golden[key], actual, Atol, Rtol, key);
        }
        TensorAssert.Close(golden["vae.latent_dist.mean"], posterior.Mode(), Atol, Rtol, "mode");
    }

    [Fact]
    public void Sample_SeededCpuGenerator_IsMeanPlusStdTimesTorchRandn()
    {
        // randn_tensor(mean.shape, generator) with one CPU generator is torch.randn(shape, generator) (libtorch's
        // generator: the same numbers as PyTorch for a seed); with a list, row i comes from generator i.
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var golden = pipelines.Golden("tiny-sd");
        using var posterior = pipelines.Models("tiny-sd").Vae.Encode(golden["vae.encode_input"]);
        var shape = posterior.Mean.shape;

        var single = posterior.Sample(new Generator(4321));
        var perRow = posterior.Sample([new Generator(7), new Generator(8)]);

        var noise = randn(shape, generator: new Generator(4321));
        TensorAssert.Close(posterior.Mean + posterior.Std * noise, single, 0, 0, "single generator");
        long[] rowShape = [1, shape[1], shape[2], shape[3]];
        var rows = cat([randn(rowShape, generator: new Generator(7)), randn(rowShape, generator: new Generator(8))], 0);
        TensorAssert.Close(posterior.Mean + posterior.Std * rows, perRow, 0, 0, "generator per row");
        Assert.False(single.allclose(perRow));
    }

    [Fact]
    public void Load_LegacyAttentionNames_RemapsToCurrentNamesWithSameOutput()
    {
        // SD 1.5's published VAE was saved before diffusers 0.21: mid-block attention as query/key/value/proj_attn.
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var source = Path.Combine(TinySdPipelines.PipelineFolder("tiny-sd"), "vae");
        var folder = Directory.CreateTempSubdirectory("legacy-vae-").FullName;
        try
        {
            var checkpoint = SafeTensorsCheckpoint.Open(source, "diffusion_pytorch_model");
            var legacy = checkpoint.Entries.Keys.ToDictionary(
                k => k.Replace(".to_q.", ".query.").Replace(".to_k.", ".key.").Replace(".to_v.", ".value.").Replace(".to_out.0.", ".proj_attn."),
                k => checkpoint.Load(k));
            Assert.Contains("decoder.mid_block.attentions.0.proj_attn.weight", legacy.Keys);
            SafeTensorsWriter.Write(Path.Combine(folder, "diffusion_pytorch_model.safetensors"), legacy);
            File.Copy(Path.Combine(source, "config.json"), Path.Combine(folder, "config.json"));

            using var vae = AutoencoderKL.Load(folder, CPU, ScalarType.Float32);

            var golden = pipelines.Golden("tiny-sd");
            TensorAssert.Close(golden["vae.decoded"], vae.Decode(golden["vae.decode_input"]), Atol, Rtol, "vae.decoded (legacy names)");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Encode_SizeNotMultipleOfScaleFactor_Throws()
    {
        using var scope = NewDisposeScope();
        var vae = pipelines.Models("tiny-sd").Vae;

        Assert.Throws<ArgumentException>(() => vae.Encode(zeros(1, 3, 63, 64)));
    }
}
