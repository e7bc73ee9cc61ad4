using System.Text.Json;
using MultiModal.Models.Clip;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Clip;

/// <summary>
/// The module tree built from a full-size config must have exactly the state-dict keys and shapes of transformers'
/// CLIPModel (manifests made by transformers 4.36 from the published configs). Built on the meta device: no weights.
/// </summary>
public sealed class ClipManifestTests
{
    [Theory]
    [InlineData("clip-vit-base-patch32.json")]
    [InlineData("clip-vit-large-patch14.json")]
    public void ModuleTree_FullSizeConfig_EqualsTransformersStateDict(string manifestFile)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("manifests", manifestFile)));
        var config = JsonSerializer.Deserialize<ClipConfig>(manifest.RootElement.GetProperty("config_full").GetRawText())!;
        var expected = manifest.RootElement.GetProperty("state_dict").EnumerateArray()
            .Select(e => $"{e.GetProperty("key").GetString()} [{string.Join(", ", e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()))}]")
            .ToList();

        using var model = new ClipModel(config, MetaDevice.Device);
        var actual = MetaDevice.KeysAndShapes(model);

        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.META, p.device_type));
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
        Assert.Equal(manifest.RootElement.GetProperty("num_tensors").GetInt32(), actual.Count);
    }
}
