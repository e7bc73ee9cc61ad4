using MultiModal.ModelKit;
using MultiModal.Models.Clip;
using MultiModal.Models.Llava;
using MultiModal.Models.Llava.Generation;
using MultiModal.Tests.Testing;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.ModelKit;

/// <summary>`ModelKit llava --preset tiny` writes a llava-hf folder our loaders read strictly, with the real tokenizer.</summary>
public sealed class LlavaKitTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("llava-kit-").FullName;

    [Fact]
    public void Write_TinyPreset_LoadsStrictlyTokenizesLikeTheGoldenAndGenerates()
    {
        var folder = Path.Combine(_root, "llava");

        LlavaKit.Write(folder, "tiny", seed: 0);

        using var scope = NewDisposeScope();
        var generator = LlavaGenerator.Load(folder, CPU, ScalarType.Float32);
        var processor = ClipImageProcessor.FromFolder(folder);
        Assert.Equal(224, processor.ImageSize);
        Assert.Equal([2], generator.EosTokenIds);
        // Same tokenizer and added tokens as the golden tiny-llava-a: the golden prompt gives the golden ids.
        var golden = LlamaTokenizer.Load(TestPaths.Fixture("llava", "tiny-llava-a"));
        var prompt = LlavaPrompt.Build("What is in this picture?");
        Assert.Equal(golden.Encode(prompt), generator.Tokenizer.Encode(prompt));
        Assert.Equal(1536, generator.Tokenizer.TokenToId("<image>"));
        Assert.Equal(1537, generator.Tokenizer.PadTokenId);

        var pixels = zeros(1, 3, 224, 224);
        var result = generator.Generate(prompt, pixels, new GenerationOptions { MaxNewTokens = 8 });
        Assert.Equal(8, result.Usage.CompletionTokens);
        Assert.Equal(generator.Tokenizer.Encode(prompt).Length - 1 + 49, result.Usage.PromptTokens);   // 7x7 patches
    }

    [Fact]
    public void Write_SameSeedTwice_ByteIdenticalWeights()
    {
        LlavaKit.Write(Path.Combine(_root, "a"), "tiny", seed: 3);
        LlavaKit.Write(Path.Combine(_root, "b"), "tiny", seed: 3);

        Assert.Equal(File.ReadAllBytes(Path.Combine(_root, "a", "model.safetensors")), File.ReadAllBytes(Path.Combine(_root, "b", "model.safetensors")));
    }

    [Fact]
    public void Presets_TinyLlamaVitL336_HasTheTinyLlavaShapes()
    {
        var preset = LlavaKit.Presets["tinyllama-vitl336"];
        var text = preset.Config.TextConfig;

        Assert.Equal((2048, 22, 32, 4, 5632, 32000), (text.HiddenSize, text.NumHiddenLayers, text.NumAttentionHeads, text.NumKeyValueHeads, text.IntermediateSize, text.VocabSize));
        Assert.Equal((1024, 24, 336, 14), (preset.Config.VisionConfig.HiddenSize, preset.Config.VisionConfig.NumHiddenLayers, preset.Config.VisionConfig.ImageSize, preset.Config.VisionConfig.PatchSize));
        Assert.Equal(576, preset.Config.ImageSequenceLength);
        Assert.Equal(ScalarType.Float16, preset.DType);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
