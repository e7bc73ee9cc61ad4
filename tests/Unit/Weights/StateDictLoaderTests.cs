using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Weights;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Weights;

/// <summary>Materializing a meta-device model from a checkpoint: every parameter is the file's, on the device, in the dtype.</summary>
public sealed class StateDictLoaderTests : IDisposable
{
    private static readonly ClipConfig Small = ClipKit.Presets["small"];
    private readonly string _folder = Directory.CreateTempSubdirectory("materialize-").FullName;

    [Fact]
    public void Materialize_MetaClipModel_EveryParameterIsTheFilesOnTheCpuAndTheModelRuns()
    {
        using var source = RandomClip();
        Save(source.state_dict());
        using var model = new ClipModel(Small, META);

        StateDictLoader.Materialize("CLIPModel", model, SafeTensorsCheckpoint.Open(_folder), CPU, ScalarType.Float32);

        var expected = source.state_dict();
        var loaded = model.state_dict();
        Assert.Equal(expected.Keys.Order(), loaded.Keys.Order());
        Assert.All(loaded, kv =>
        {
            Assert.Equal(DeviceType.CPU, kv.Value.device_type);
            Assert.Equal(ScalarType.Float32, kv.Value.dtype);
            Assert.False(kv.Value.requires_grad);
            Assert.True(kv.Value.eq(expected[kv.Key]).all().item<bool>(), $"{kv.Key} differs from the file");
        });
        // The forward pass reads the modules' fields and properties, not the registry: it must see the same weights.
        using var ids = tensor(new long[] { 49406, 320, 1929, 49407 }).unsqueeze(0);
        using var mask = ones_like(ids);
        using var _ = no_grad();
        Assert.True(model.GetTextFeatures(ids, mask).allclose(source.GetTextFeatures(ids, mask), rtol: 0, atol: 0));
    }

    [Fact]
    public void Materialize_Float16File_ConvertsEachTensorToTheRequestedDtype()
    {
        using var source = RandomClip();
        Save(source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.Float16)));
        using var model = new ClipModel(Small, META);

        StateDictLoader.Materialize("CLIPModel", model, SafeTensorsCheckpoint.Open(_folder), CPU, ScalarType.Float32);

        var q = model.state_dict()["text_model.encoder.layers.0.self_attn.q_proj.weight"];
        Assert.Equal(ScalarType.Float32, q.dtype);
        var rounded = source.state_dict()["text_model.encoder.layers.0.self_attn.q_proj.weight"].to(ScalarType.Float16).to(ScalarType.Float32);
        Assert.True(q.eq(rounded).all().item<bool>());
    }

    [Fact]
    public void Materialize_CheckpointWithoutAKey_ThrowsNamingItAndTheFolder()
    {
        using var source = RandomClip();
        var tensors = source.state_dict();
        tensors.Remove("vision_model.post_layernorm.bias");
        Save(tensors);
        using var model = new ClipModel(Small, META);

        var error = Assert.Throws<InvalidDataException>(() =>
            StateDictLoader.Materialize("CLIPModel", model, SafeTensorsCheckpoint.Open(_folder), CPU, ScalarType.Float32));

        Assert.Contains("1 missing (vision_model.post_layernorm.bias)", error.Message);
        Assert.Contains(_folder, error.Message);
    }

    private static ClipModel RandomClip()
    {
        var model = new ClipModel(Small);
        KitWeights.Randomize(model, seed: 5);
        return model;
    }

    private void Save(IReadOnlyDictionary<string, Tensor> tensors) =>
        SafeTensorsWriter.Write(Path.Combine(_folder, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
