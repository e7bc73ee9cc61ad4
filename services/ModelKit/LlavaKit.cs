using System.Text.Json;
using System.Text.Json.Nodes;
using MultiModal.Models.Llava;
using MultiModal.Models.Runtime;
using MultiModal.Models.Weights;
using static TorchSharp.torch;

namespace MultiModal.ModelKit;

/// <summary>
/// Writes a LLaVA folder in the llava-hf layout (transformers LlavaForConditionalGeneration + LlavaProcessor) with
/// deterministic random weights and a real SentencePiece tokenizer (Assets/llama-sp, see its NOTE.md): 1536 pieces,
/// then <c>&lt;image&gt;</c> = 1536 and <c>&lt;pad&gt;</c> = 1537, added the way llava-hf's conversion script adds them.
/// </summary>
public static class LlavaKit
{
    /// <summary>Ids of the added tokens and the tokenizer's size (the decoder's vocab_size).</summary>
    public const int ImageTokenId = 1536, PadTokenId = 1537, TokenizerSize = 1538;

    /// <summary>A preset's shape and the dtype its weights are written in.</summary>
    public sealed record Preset(LlavaConfig Config, ScalarType DType, string Description);

    /// <summary>"tiny" is the fleet's built-in default; "tinyllama-vitl336" has the shapes of a real small LLaVA, for the bench.</summary>
    public static readonly IReadOnlyDictionary<string, Preset> Presets = new Dictionary<string, Preset>
    {
        ["tiny"] = new(new LlavaConfig
        {
            VisionConfig = new() { HiddenSize = 128, IntermediateSize = 256, NumHiddenLayers = 2, NumAttentionHeads = 4, ImageSize = 224, PatchSize = 32, ProjectionDim = 64 },
            TextConfig = new()
            {
                VocabSize = TokenizerSize, HiddenSize = 128, IntermediateSize = 256, NumHiddenLayers = 2, NumAttentionHeads = 4,
                NumKeyValueHeadsRaw = 2, MaxPositionEmbeddings = 1024, RmsNormEps = 1e-5, PadTokenId = PadTokenId,
            },
            ImageTokenIndex = ImageTokenId, PadTokenId = PadTokenId,
        }, ScalarType.Float32, "CLIP 224/32 (2 layers, 128 wide) + Llama (2 layers, 128 wide, GQA 4:2), vocab 1538"),

        // TinyLlama-1.1B decoder + CLIP ViT-L/14-336 (LlavaConfig's default tower), as tiny-llava-v1-hf. Vocabulary
        // 32000 as TinyLlama's; only the first 1538 ids have tokens. Written in float16 (2.8 GB instead of 5.6 GB):
        // the loader converts to the serving dtype while copying each tensor into the module.
        ["tinyllama-vitl336"] = new(new LlavaConfig
        {
            VisionConfig = LlavaConfig.DefaultVisionConfig,
            TextConfig = new()
            {
                VocabSize = 32000, HiddenSize = 2048, IntermediateSize = 5632, NumHiddenLayers = 22, NumAttentionHeads = 32,
                NumKeyValueHeadsRaw = 4, MaxPositionEmbeddings = 2048, RmsNormEps = 1e-5, PadTokenId = PadTokenId,
            },
            ImageTokenIndex = ImageTokenId, PadTokenId = PadTokenId,
        }, ScalarType.Float16, "CLIP ViT-L/14-336 + TinyLlama-1.1B (22 layers, 2048 wide, GQA 32:4), vocab 32000"),
    };

    public static void Write(string outDir, string presetName, long seed)
    {
        if (!Presets.TryGetValue(presetName, out var preset))
            throw new ArgumentException($"Unknown LLaVA preset '{presetName}'; expected {string.Join(", ", Presets.Keys)}.");
        var config = preset.Config;
        config.Validate();
        Directory.CreateDirectory(outDir);
        // Built directly in the file's dtype, so the 1.1B preset never needs 5.6 GB of float32 in memory.
        var previous = get_default_dtype();
        LlavaForConditionalGeneration model;
        try
        {
            set_default_dtype(preset.DType);
            model = new LlavaForConditionalGeneration(config);
        }
        finally
        {
            set_default_dtype(previous);
        }
        using (model)
        {
            KitWeights.Randomize(model, seed);
            WriteFolder(outDir, config, model.state_dict(), preset.DType,
                $"Random-weight LLaVA ({presetName}: {preset.Description}; seed {seed}, {TorchRuntime.Name(preset.DType)}) written by " +
                "the MultiModal.Services model kit in the llava-hf layout. The SentencePiece tokenizer is real (a 1536-piece " +
                "Llama-2-style BPE made for this project's golden data) but the weights are random, so answers are gibberish. " +
                "For real answers point MODEL= at a downloaded llava-hf folder (e.g. llava-hf/llava-1.5-7b-hf).\n");
        }
    }

    /// <summary>
    /// A LLaVA folder in the llava-hf layout from a state dict (tensors written in their own dtype; <paramref name="dtype"/>
    /// is config.json's torch_dtype): config.json, model.safetensors, generation_config.json, preprocessor_config.json
    /// for the tower's image size, the SentencePiece tokenizer files, and <paramref name="readme"/> as README.md.
    /// </summary>
    public static void WriteFolder(string outDir, LlavaConfig config, IReadOnlyDictionary<string, Tensor> stateDict, ScalarType dtype, string readme)
    {
        config.Validate();
        Directory.CreateDirectory(outDir);
        var tensors = stateDict
            .Where(kv => !kv.Key.EndsWith("position_ids", StringComparison.Ordinal))   // non-persistent in transformers
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        SafeTensorsWriter.Write(Path.Combine(outDir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        KitFiles.WriteJson(Path.Combine(outDir, "config.json"), ConfigJson(config, dtype));
        KitFiles.WriteJson(Path.Combine(outDir, "generation_config.json"), new JsonObject
        {
            ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["pad_token_id"] = PadTokenId,
        });
        KitFiles.WriteJson(Path.Combine(outDir, "preprocessor_config.json"), PreprocessorJson(config.VisionConfig.ImageSize));
        KitFiles.CopyAsset("llama-sp/tokenizer.model", Path.Combine(outDir, "tokenizer.model"));
        WriteTokenizerFiles(outDir);
        File.WriteAllText(Path.Combine(outDir, "README.md"), readme);
    }

    private static JsonObject ConfigJson(LlavaConfig c, ScalarType dtype)
    {
        var text = JsonSerializer.SerializeToNode(c.TextConfig)!.AsObject();
        text.Remove("rope_scaling");
        var vision = JsonSerializer.SerializeToNode(c.VisionConfig)!.AsObject();
        vision["model_type"] = "clip_vision_model";
        return new JsonObject
        {
            ["architectures"] = new JsonArray("LlavaForConditionalGeneration"),
            ["model_type"] = "llava",
            ["ignore_index"] = c.IgnoreIndex,
            ["image_token_index"] = c.ImageTokenIndex,
            ["pad_token_id"] = c.PadTokenId,
            ["projector_hidden_act"] = c.ProjectorHiddenAct,
            ["vision_feature_layer"] = c.VisionFeatureLayer,
            ["vision_feature_select_strategy"] = c.VisionFeatureSelectStrategy,
            ["vocab_size"] = c.TextConfig.VocabSize,
            ["tie_word_embeddings"] = false,
            ["torch_dtype"] = TorchRuntime.Name(dtype),
            ["text_config"] = text,
            ["vision_config"] = vision,
        };
    }

    private static JsonObject PreprocessorJson(int size) => new()
    {
        ["image_processor_type"] = "CLIPImageProcessor",
        ["processor_class"] = "LlavaProcessor",
        ["do_resize"] = true, ["size"] = new JsonObject { ["shortest_edge"] = size }, ["resample"] = 3,
        ["do_center_crop"] = true, ["crop_size"] = new JsonObject { ["height"] = size, ["width"] = size },
        ["do_rescale"] = true, ["rescale_factor"] = 1.0 / 255,
        ["do_normalize"] = true,
        ["image_mean"] = new JsonArray(0.48145466, 0.4578275, 0.40821073),
        ["image_std"] = new JsonArray(0.26862954, 0.26130258, 0.27577711),
        ["do_convert_rgb"] = true,
    };

    // As llava-hf's tokenizer files (and the golden tiny-llava-a): slow LlamaTokenizer, legacy false, <image> special.
    private static void WriteTokenizerFiles(string outDir)
    {
        static JsonObject Token(string content, bool special = true)
        {
            var token = new JsonObject
            {
                ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false, ["single_word"] = false,
            };
            if (special) token["special"] = true;
            return token;
        }
        var decoder = new JsonObject();
        foreach (var (id, content) in new[] { (0, "<unk>"), (1, "<s>"), (2, "</s>"), (ImageTokenId, "<image>"), (PadTokenId, "<pad>") })
            decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Token(content);
        KitFiles.WriteJson(Path.Combine(outDir, "tokenizer_config.json"), new JsonObject
        {
            ["add_bos_token"] = true, ["add_eos_token"] = false,
            ["added_tokens_decoder"] = decoder,
            ["additional_special_tokens"] = new JsonArray("<image>"),
            ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["unk_token"] = "<unk>", ["pad_token"] = "<pad>",
            ["clean_up_tokenization_spaces"] = false, ["legacy"] = false,
            ["model_max_length"] = 1000000000000000019884624838656.0,
            ["padding_side"] = "left", ["processor_class"] = "LlavaProcessor", ["sp_model_kwargs"] = new JsonObject(),
            ["spaces_between_special_tokens"] = false, ["tokenizer_class"] = "LlamaTokenizer", ["use_default_system_prompt"] = false,
        });
        KitFiles.WriteJson(Path.Combine(outDir, "special_tokens_map.json"), new JsonObject
        {
            ["additional_special_tokens"] = new JsonArray(Token("<image>", special: false)),
            ["bos_token"] = Token("<s>", special: false), ["eos_token"] = Token("</s>", special: false),
            ["pad_token"] = Token("<pad>", special: false), ["unk_token"] = Token("<unk>", special: false),
        });
        KitFiles.WriteJson(Path.Combine(outDir, "added_tokens.json"), new JsonObject { ["<image>"] = ImageTokenId, ["<pad>"] = PadTokenId });
    }
}
