using System.Text.Json;
using System.Text.Json.Nodes;
using MultiModal.Models.Clip;
using MultiModal.Models.Schedulers;
using MultiModal.Models.Unet;
using MultiModal.Models.Vae;
using MultiModal.Models.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.ModelKit;

/// <summary>
/// Writes a Stable Diffusion 1.x pipeline folder in the diffusers layout (<c>save_pretrained</c>): model_index.json,
/// unet/, vae/, text_encoder/, tokenizer/ (real CLIP BPE) and scheduler/ (SD 1.5's PNDM file), with deterministic
/// random weights: the same seed writes the same bytes.
/// </summary>
public static class SdKit
{
    /// <summary>The networks' shapes of a preset.</summary>
    public sealed record Preset(UNet2DConditionConfig Unet, AutoencoderKLConfig Vae, ClipTextConfig TextEncoder);

    /// <summary>
    /// "tiny": every SD 1.x block type (CrossAttnDownBlock2D, DownBlock2D, UNetMidBlock2DCrossAttn, UpBlock2D,
    /// CrossAttnUpBlock2D; a 4-level VAE, so the VAE factor is 8 as in SD) at 128×128 output, fast on a CPU.
    /// "sd15": the shapes of runwayml/stable-diffusion-v1-5 (UNet 860M, VAE 84M, text encoder 123M parameters).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, Preset> Presets = new Dictionary<string, Preset>
    {
        ["tiny"] = new(
            new UNet2DConditionConfig
            {
                SampleSize = 16,
                BlockOutChannels = [32, 64],
                LayersPerBlock = new(1),
                DownBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"],
                UpBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"],
                CrossAttentionDim = new(32),
                AttentionHeadDim = new(8),
            },
            new AutoencoderKLConfig
            {
                SampleSize = 128,
                BlockOutChannels = [32, 32, 64, 64],
                DownBlockTypes = ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
                UpBlockTypes = ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
                LayersPerBlock = 1,
            },
            new ClipTextConfig { HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, ProjectionDim = 32 }),
        // diffusers' UNet2DConditionModel defaults are SD 1.x's shapes; sample_size 64 → 512×512
        ["sd15"] = new(
            new UNet2DConditionConfig { SampleSize = 64, CrossAttentionDim = new(768) },
            new AutoencoderKLConfig
            {
                SampleSize = 512,
                BlockOutChannels = [128, 256, 512, 512],
                DownBlockTypes = ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
                UpBlockTypes = ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
                LayersPerBlock = 2,
            },
            new ClipTextConfig { HiddenSize = 768, IntermediateSize = 3072, NumHiddenLayers = 12, NumAttentionHeads = 12, ProjectionDim = 768 }),
    };

    // SD 1.5's scheduler/scheduler_config.json verbatim: other schedulers inherit only what it sets (see Schedulers).
    private const string Sd15SchedulerConfig = """
        {
          "_class_name": "PNDMScheduler",
          "_diffusers_version": "0.6.0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "num_train_timesteps": 1000,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "trained_betas": null,
          "clip_sample": false
        }
        """;

    // SD 1.5's noise schedule under DPMSolverMultistepScheduler as DPM++ 2M (dpmsolver++, order 2, midpoint, no Karras
    // sigmas): what diffusers' DPMSolverMultistepScheduler.from_config(SD 1.5's file) resolves to, with the algorithm
    // stated rather than left to the class's defaults. Every other setting keeps that class's default (timestep_spacing
    // "linspace", lower_order_final true), as for a request naming DPM++ 2M on an SD 1.5 folder.
    private const string Sd15DpmPP2MSchedulerConfig = """
        {
          "_class_name": "DPMSolverMultistepScheduler",
          "_diffusers_version": "0.25.1",
          "algorithm_type": "dpmsolver++",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "num_train_timesteps": 1000,
          "prediction_type": "epsilon",
          "solver_order": 2,
          "solver_type": "midpoint",
          "steps_offset": 1,
          "trained_betas": null,
          "use_karras_sigmas": false
        }
        """;

    /// <summary>The schedule the written scheduler/scheduler_config.json states (SD 1.5's), e.g. for training on it.</summary>
    public static SchedulerConfig Sd15Schedule => SchedulerConfig.Parse(Sd15SchedulerConfig);

    /// <summary>The scheduler file <see cref="WriteFolder"/> writes for a pipeline sampled by <paramref name="sampler"/> by default.</summary>
    public static string SchedulerFile(SchedulerKind sampler) => sampler switch
    {
        SchedulerKind.Pndm => Sd15SchedulerConfig,
        SchedulerKind.DpmPP2M => Sd15DpmPP2MSchedulerConfig,
        _ => throw new ArgumentOutOfRangeException(nameof(sampler), sampler, "a written pipeline's default scheduler is PNDM (SD 1.5's file) or DPM++ 2M"),
    };

    public static void Write(string outDir, string preset, long seed)
    {
        if (!Presets.TryGetValue(preset, out var shapes))
            throw new ArgumentException($"Unknown SD preset '{preset}'; expected {string.Join(", ", Presets.Keys)}.");
        Directory.CreateDirectory(outDir);

        // one seed per network, so each is reproducible on its own
        using var unet = Randomized(seed, () => new UNet2DConditionModel(shapes.Unet));
        using var vae = Randomized(seed + 1, () => new AutoencoderKL(shapes.Vae));
        using var text = Randomized(seed + 2, () => new ClipTextModel(shapes.TextEncoder));
        WriteFolder(outDir, unet, vae, shapes.Vae, text,
            $"Random-weight Stable Diffusion 1.x pipeline ({preset}, seed {seed}) in the diffusers layout, written by the " +
            "MultiModal.Services model kit. Real tokenizer files (openai/CLIP BPE, MIT) and SD 1.5's scheduler config; " +
            "weights are random, so images are noise-like. For real weights point the service at a downloaded diffusers folder.\n");
    }

    /// <summary>
    /// Writes the networks as a diffusers StableDiffusionPipeline folder (unet/, vae/ with <paramref name="vaeConfig"/>,
    /// text_encoder/, the CLIP BPE tokenizer, SD 1.5's noise schedule under <paramref name="sampler"/>'s scheduler class
    /// (<see cref="SchedulerFile"/>), model_index.json) and <paramref name="readme"/>.
    /// </summary>
    public static void WriteFolder(string outDir, UNet2DConditionModel unet, AutoencoderKL vae, AutoencoderKLConfig vaeConfig,
        ClipTextModel text, string readme, SchedulerKind sampler = SchedulerKind.Pndm)
    {
        var schedulerFile = SchedulerFile(sampler);
        Directory.CreateDirectory(outDir);
        WriteComponent(outDir, "unet", "diffusion_pytorch_model.safetensors", unet, DiffusersConfig(unet.Config, "UNet2DConditionModel"));
        WriteComponent(outDir, "vae", "diffusion_pytorch_model.safetensors", vae, DiffusersConfig(vaeConfig, "AutoencoderKL"));
        WriteComponent(outDir, "text_encoder", "model.safetensors", text, TextEncoderConfig(text.Config));
        WriteTokenizer(Path.Combine(outDir, "tokenizer"), text.Config.MaxPositionEmbeddings);
        Directory.CreateDirectory(Path.Combine(outDir, "scheduler"));
        File.WriteAllText(Path.Combine(outDir, "scheduler", "scheduler_config.json"), schedulerFile + "\n");
        KitFiles.WriteJson(Path.Combine(outDir, "model_index.json"), ModelIndex(SchedulerConfig.Parse(schedulerFile).ClassName));
        File.WriteAllText(Path.Combine(outDir, "README.md"), readme);
    }

    private static T Randomized<T>(long seed, Func<T> create) where T : nn.Module
    {
        var module = create();
        KitWeights.Randomize(module, seed);
        return module;
    }

    private static void WriteComponent(string outDir, string folder, string file, nn.Module module, JsonObject config)
    {
        var dir = Path.Combine(outDir, folder);
        Directory.CreateDirectory(dir);
        SafeTensorsWriter.Write(Path.Combine(dir, file), module.state_dict(), new Dictionary<string, string> { ["format"] = "pt" });
        KitFiles.WriteJson(Path.Combine(dir, "config.json"), config);
    }

    private static JsonObject DiffusersConfig<TConfig>(TConfig config, string className)
    {
        var json = new JsonObject { ["_class_name"] = className, ["_diffusers_version"] = "0.25.1" };
        foreach (var (key, value) in JsonSerializer.SerializeToNode(config)!.AsObject())
            json[key] = value?.DeepClone();
        return json;
    }

    private static JsonObject TextEncoderConfig(ClipTextConfig config)
    {
        var json = new JsonObject { ["architectures"] = new JsonArray("CLIPTextModel"), ["model_type"] = "clip_text_model", ["torch_dtype"] = "float32" };
        foreach (var (key, value) in JsonSerializer.SerializeToNode(config)!.AsObject())
            json[key] = value?.DeepClone();
        return json;
    }

    private static void WriteTokenizer(string dir, int maxLength)
    {
        Directory.CreateDirectory(dir);
        KitFiles.CopyAsset("clip-bpe/vocab.json", Path.Combine(dir, "vocab.json"));
        KitFiles.CopyAsset("clip-bpe/merges.txt", Path.Combine(dir, "merges.txt"));
        KitFiles.WriteJson(Path.Combine(dir, "special_tokens_map.json"), new JsonObject
        {
            ["bos_token"] = "<|startoftext|>", ["eos_token"] = "<|endoftext|>",
            ["pad_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>",
        });
        KitFiles.WriteJson(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
        {
            ["tokenizer_class"] = "CLIPTokenizer", ["model_max_length"] = maxLength,
            ["bos_token"] = "<|startoftext|>", ["eos_token"] = "<|endoftext|>",
            ["pad_token"] = "<|endoftext|>", ["unk_token"] = "<|endoftext|>", ["do_lower_case"] = true,
        });
    }

    private static JsonObject ModelIndex(string schedulerClass) => new()
    {
        ["_class_name"] = "StableDiffusionPipeline",
        ["_diffusers_version"] = "0.25.1",
        ["feature_extractor"] = new JsonArray(null, null),
        ["image_encoder"] = new JsonArray(null, null),
        ["requires_safety_checker"] = false,
        ["safety_checker"] = new JsonArray(null, null),
        ["scheduler"] = new JsonArray("diffusers", schedulerClass),
        ["text_encoder"] = new JsonArray("transformers", "CLIPTextModel"),
        ["tokenizer"] = new JsonArray("transformers", "CLIPTokenizer"),
        ["unet"] = new JsonArray("diffusers", "UNet2DConditionModel"),
        ["vae"] = new JsonArray("diffusers", "AutoencoderKL"),
    };
}
