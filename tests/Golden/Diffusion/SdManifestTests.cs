using System.Text.Json;
using MultiModal.Models.Clip;
using MultiModal.Models.Unet;
using MultiModal.Models.Vae;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>
/// Module trees built from SD 1.5's full-size configs must have exactly the state-dict keys and shapes of diffusers
/// 0.25.1 / transformers 4.36 (manifests in Fixtures/manifests, made from the published configs). Built on the meta
/// device: no weights are allocated.
/// </summary>
public sealed class SdManifestTests
{
    [Fact]
    public void UNet_Sd15Config_EqualsDiffusersStateDict()
    {
        var (config, expected, count) = ReadManifest<UNet2DConditionConfig>("sd15-unet.json");
        using var model = new UNet2DConditionModel(config, MetaDevice.Device);

        AssertSameTree(expected, count, model);
        Assert.Equal(8, config.NumHeadsPerBlock[0]);                       // attention_head_dim 8 = heads (SD 1.x quirk)
    }

    [Fact]
    public void Vae_Sd15Config_EqualsDiffusersStateDict()
    {
        var (config, expected, count) = ReadManifest<AutoencoderKLConfig>("sd15-vae.json");
        using var model = new AutoencoderKL(config, MetaDevice.Device);

        AssertSameTree(expected, count, model);
        Assert.Equal(8, config.ScaleFactor);
    }

    [Fact]
    public void TextEncoder_Sd15Config_EqualsTransformersStateDict()
    {
        var (config, expected, count) = ReadManifest<ClipTextConfig>("sd15-text_encoder.json");
        using var model = new ClipTextModel(config, MetaDevice.Device);

        AssertSameTree(expected, count, model);
    }

    private static (T Config, List<string> Expected, int Count) ReadManifest<T>(string file)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("manifests", file)));
        var root = manifest.RootElement;
        var config = JsonSerializer.Deserialize<T>(root.GetProperty("config_full").GetRawText())!;
        var expected = root.GetProperty("state_dict").EnumerateArray()
            .Select(e => $"{e.GetProperty("key").GetString()} [{string.Join(", ", e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]")
            .ToList();
        return (config, expected, root.GetProperty("num_tensors").GetInt32());
    }

    private static void AssertSameTree(List<string> expected, int count, nn.Module model)
    {
        var actual = MetaDevice.KeysAndShapes(model);

        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        Assert.Equal(count, expected.Count);
        var missing = expected.Except(actual).Take(5).ToList();
        var unexpected = actual.Except(expected).Take(5).ToList();
        Assert.True(missing.Count == 0 && unexpected.Count == 0,
            $"missing: {string.Join("; ", missing)} | unexpected: {string.Join("; ", unexpected)}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
    }
}
