using MultiModal.Tests.Fuzz.Targets;

namespace MultiModal.Tests.Fuzz;

/// <summary>Every fuzz target by name. Targets load their assets (tokenizer files) once, on first use.</summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Lazy<IFuzzTarget>> Targets = new(StringComparer.Ordinal)
    {
        [ImageDecodeTarget.TargetName] = new(() => new ImageDecodeTarget()),
        [PngTextTarget.TargetName] = new(() => new PngTextTarget()),
        [SafeTensorsHeaderTarget.TargetName] = new(() => new SafeTensorsHeaderTarget()),
        [ClipTokenizerTarget.TargetName] = new(() => new ClipTokenizerTarget()),
        [LlamaTokenizerTarget.TargetName] = new(() => new LlamaTokenizerTarget()),
        [ClipRequestTarget.TargetName] = new(() => new ClipRequestTarget()),
        [VisionRequestTarget.TargetName] = new(() => new VisionRequestTarget()),
        [DiffusionRequestTarget.TargetName] = new(() => new DiffusionRequestTarget()),
    };

    /// <summary>image, png-text, safetensors, clip-tokenizer, llama-tokenizer, clip-request, vision-request, diffusion-request.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Targets.Keys];

    public static IFuzzTarget Get(string name) => Targets.TryGetValue(name, out var target)
        ? target.Value
        : throw new ArgumentException($"no fuzz target '{name}'; targets: {string.Join(", ", Names)}", nameof(name));
}
