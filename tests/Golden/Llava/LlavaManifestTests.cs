using System.Text.Json;
using MultiModal.Models.Llava;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Llava;

/// <summary>
/// The module tree built from a full-size llava-hf config.json (sparse, as published) must have exactly the tensors
/// transformers 4.37.2's LlavaForConditionalGeneration saves (llava/manifests). Built on the meta device: no weights.
/// </summary>
public sealed class LlavaManifestTests
{
    [Theory]
    [InlineData("llava-1.5-7b-hf.manifest.json")]
    [InlineData("tiny-llava-v1-hf.manifest.json")]
    public void ModuleTree_PublishedConfig_EqualsTransformersCheckpointTensors(string manifestFile)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("llava", "manifests", manifestFile)));
        var root = manifest.RootElement;
        var config = LlavaConfig.Parse(root.GetProperty("config_as_written").GetRawText(), manifestFile);
        var expected = root.GetProperty("tensors").EnumerateArray()
            .Select(e => $"{e.GetProperty("name").GetString()} [{string.Join(", ", e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]")
            .ToList();

        using var model = new LlavaForConditionalGeneration(config, MetaDevice.Device);
        var actual = MetaDevice.KeysAndShapes(model);

        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        Assert.Equal(root.GetProperty("num_tensors").GetInt32(), actual.Count);
        Assert.Equal(root.GetProperty("num_parameters").GetInt64(), model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Parse_SparseTinyLlavaConfig_FillsClassDefaults()
    {
        var config = LlavaConfig.Load(TestPaths.Fixture("llava", "tiny-llava-a", "config.json"));

        Assert.Equal((2, 4, 16), (config.TextConfig.NumKeyValueHeads, config.TextConfig.NumAttentionHeads, config.TextConfig.HeadDim));
        Assert.Equal(1e-5, config.TextConfig.RmsNormEps);
        Assert.Equal(10000.0, config.TextConfig.RopeTheta);
        Assert.False(config.TextConfig.TieWordEmbeddings);
        Assert.Equal(("quick_gelu", 1e-5, 3), (config.VisionConfig.HiddenAct, config.VisionConfig.LayerNormEps, config.VisionConfig.NumChannels));
        Assert.Equal((-2, "default", "gelu", 1536), (config.VisionFeatureLayer, config.VisionFeatureSelectStrategy, config.ProjectorHiddenAct, config.ImageTokenIndex));
        Assert.Equal(16, config.ImageSequenceLength);
    }

    [Fact]
    public void Parse_NoVisionConfig_UsesLlavaDefaultClipVitL336()
    {
        var config = LlavaConfig.Parse("""{"text_config": {"model_type": "llama"}}""");

        Assert.Equal((1024, 24, 14, 336), (config.VisionConfig.HiddenSize, config.VisionConfig.NumHiddenLayers, config.VisionConfig.PatchSize, config.VisionConfig.ImageSize));
        Assert.Equal((4096, 32, 32, 1e-6), (config.TextConfig.HiddenSize, config.TextConfig.NumKeyValueHeads, config.TextConfig.NumHiddenLayers, config.TextConfig.RmsNormEps));
    }
}
