using System.Text.Json;
using System.Text.Json.Nodes;
using MultiModal.Models.Clip;
using MultiModal.Models.Weights;
using static TorchSharp.torch;

namespace MultiModal.ModelKit;

/// <summary>Writes a CLIP folder in the Hugging Face layout (transformers CLIPModel + CLIPProcessor) with random weights.</summary>
public static class ClipKit
{
    /// <summary>Shapes the kit can write. "small" is the fleet's built-in default; the others are published shapes.</summary>
    public static readonly IReadOnlyDictionary<string, ClipConfig> Presets = new Dictionary<string, ClipConfig>
    {
        ["small"] = new()
        {
            ProjectionDim = 64,
            TextConfig = new() { HiddenSize = 128, IntermediateSize = 256, NumHiddenLayers = 2, NumAttentionHeads = 4, ProjectionDim = 64 },
            VisionConfig = new() { HiddenSize = 128, IntermediateSize = 256, NumHiddenLayers = 2, NumAttentionHeads = 4, ImageSize = 224, PatchSize = 32, ProjectionDim = 64 },
        },
        // openai/clip-vit-base-patch32: transformers' defaults are exactly this shape.
        ["vit-b-32"] = new(),
        ["vit-l-14"] = new()
        {
            ProjectionDim = 768,
            TextConfig = new() { HiddenSize = 768, IntermediateSize = 3072, NumHiddenLayers = 12, NumAttentionHeads = 12, ProjectionDim = 768 },
            VisionConfig = new() { HiddenSize = 1024, IntermediateSize = 4096, NumHiddenLayers = 24, NumAttentionHeads = 16, ImageSize = 224, PatchSize = 14, ProjectionDim = 768 },
        },
    };

    public static void Write(string outDir, string preset, long seed)
    {
        if (!Presets.TryGetValue(preset, out var config))
            throw new ArgumentException($"Unknown CLIP preset '{preset}'; expected {string.Join(", ", Presets.Keys)}.");
        using var model = new ClipModel(config);
        KitWeights.Randomize(model, seed);
        WriteFolder(outDir, config, model.state_dict(),
            $"Random-weight CLIP ({preset}, seed {seed}) written by the MultiModal.Services model kit. Real tokenizer files " +
            "(openai/CLIP BPE, MIT); weights are random, so embeddings carry no meaning. For real weights point MODEL= at a " +
            "downloaded Hugging Face CLIP folder.\n");
    }

    /// <summary>
    /// A CLIP folder in the Hugging Face layout from a state dict: config.json, model.safetensors, the CLIP BPE tokenizer
    /// files, preprocessor_config.json for the vision tower's image size, and <paramref name="readme"/> as README.md.
    /// </summary>
    public static void WriteFolder(string outDir, ClipConfig config, IReadOnlyDictionary<string, Tensor> stateDict, string readme)
    {
        Directory.CreateDirectory(outDir);
        SafeTensorsWriter.Write(Path.Combine(outDir, "model.safetensors"), stateDict,
            new Dictionary<string, string> { ["format"] = "pt" });
        KitFiles.WriteJson(Path.Combine(outDir, "config.json"), ConfigJson(config));
        KitFiles.WriteJson(Path.Combine(outDir, "preprocessor_config.json"), PreprocessorJson(config.VisionConfig.ImageSize));
        KitFiles.CopyAsset("clip-bpe/vocab.json", Path.Combine(outDir, "vocab.json"));
        KitFiles.CopyAsset("clip-bpe/merges.txt", Path.Combine(outDir, "merges.txt"));
        KitFiles.WriteJson(Path.Combine(outDir, "special_tokens_map.json"), new JsonObject
        {
            ["bos_token"] = "<|startoftext|>", ["eos_token"] = "<|endoftext|>",
            ["pad_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>",
        });
        KitFiles.WriteJson(Path.Combine(outDir, "tokenizer_config.json"), new JsonObject
        {
            ["tokenizer_class"] = "CLIPTokenizer", ["model_max_length"] = config.TextConfig.MaxPositionEmbeddings,
            ["bos_token"] = "<|startoftext|>", ["eos_token"] = "<|endoftext|>",
            ["pad_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>", ["do_lower_case"] = true,
        });
        File.WriteAllText(Path.Combine(outDir, "README.md"), readme);
    }

    private static JsonObject ConfigJson(ClipConfig c) => new()
    {
        ["architectures"] = new JsonArray("CLIPModel"),
        ["model_type"] = "clip",
        ["projection_dim"] = c.ProjectionDim,
        ["logit_scale_init_value"] = c.LogitScaleInitValue,
        ["torch_dtype"] = "float32",
        ["text_config"] = JsonSerializer.SerializeToNode(c.TextConfig),
        ["vision_config"] = JsonSerializer.SerializeToNode(c.VisionConfig),
    };

    private static JsonObject PreprocessorJson(int size) => new()
    {
        ["image_processor_type"] = "CLIPImageProcessor",
        ["processor_class"] = "CLIPProcessor",
        ["do_resize"] = true, ["size"] = new JsonObject { ["shortest_edge"] = size }, ["resample"] = 3,
        ["do_center_crop"] = true, ["crop_size"] = new JsonObject { ["height"] = size, ["width"] = size },
        ["do_rescale"] = true, ["rescale_factor"] = 1.0 / 255,
        ["do_normalize"] = true,
        ["image_mean"] = new JsonArray(0.48145466, 0.4578275, 0.40821073),
        ["image_std"] = new JsonArray(0.26862954, 0.26130258, 0.27577711),
        ["do_convert_rgb"] = true,
    };
}
