using System.Text.Json;
using MultiModal.Models.Clip;
using MultiModal.Models.Unet;
using MultiModal.Models.Vae;
using static TorchSharp.torch;

namespace MultiModal.Models.Pipelines;

/// <summary>
/// A Stable Diffusion 1.x/2.x pipeline folder in the diffusers layout (<c>save_pretrained</c> / the Hub):
/// <c>model_index.json</c> naming each component's library and class, and one subfolder per component (unet/, vae/,
/// text_encoder/, tokenizer/, scheduler/). Opening checks the index and the component folders; loading the weights is
/// separate, with device and dtype chosen at run time. safety_checker / feature_extractor / image_encoder entries are
/// not loaded (the service has no safety checker).
/// </summary>
public sealed class StableDiffusionFolder
{
    private static readonly string[] PipelineClasses = ["StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline"];

    public string Root { get; }

    /// <summary><c>_class_name</c> of model_index.json.</summary>
    public string PipelineClass { get; }

    /// <summary>The scheduler class model_index.json names (e.g. PNDMScheduler, DDIMScheduler).</summary>
    public string SchedulerClass { get; }

    /// <summary>The tokenizer class model_index.json names (CLIPTokenizer or CLIPTokenizerFast).</summary>
    public string TokenizerClass { get; }

    public string UnetFolder => Path.Combine(Root, "unet");
    public string VaeFolder => Path.Combine(Root, "vae");
    public string TextEncoderFolder => Path.Combine(Root, "text_encoder");
    public string TokenizerFolder => Path.Combine(Root, "tokenizer");
    public string SchedulerConfigPath => Path.Combine(Root, "scheduler", "scheduler_config.json");

    private StableDiffusionFolder(string root, string pipelineClass, string schedulerClass, string tokenizerClass)
    {
        Root = root;
        PipelineClass = pipelineClass;
        SchedulerClass = schedulerClass;
        TokenizerClass = tokenizerClass;
    }

    /// <summary>
    /// Reads <c>model_index.json</c> in <paramref name="root"/> and checks that it describes an SD text-to-image pipeline
    /// this service can run (UNet2DConditionModel, AutoencoderKL, CLIPTextModel, CLIPTokenizer, a diffusers scheduler)
    /// and that the unet, vae, text_encoder and tokenizer folders exist, each config naming the expected class.
    /// </summary>
    public static StableDiffusionFolder Open(string root)
    {
        var indexPath = Path.Combine(root, "model_index.json");
        if (!File.Exists(indexPath))
            throw new FileNotFoundException($"'{root}' is not a diffusers pipeline folder: model_index.json is missing.", indexPath);
        using var index = JsonDocument.Parse(File.ReadAllText(indexPath));
        var pipelineClass = index.RootElement.TryGetProperty("_class_name", out var cls) ? cls.GetString() ?? "" : "";
        if (!PipelineClasses.Contains(pipelineClass))
            throw new NotSupportedException(
                $"'{indexPath}' describes a '{pipelineClass}'; expected one of {string.Join(", ", PipelineClasses)}.");

        ExpectComponent(index, indexPath, "unet", "diffusers", "UNet2DConditionModel");
        ExpectComponent(index, indexPath, "vae", "diffusers", "AutoencoderKL");
        ExpectComponent(index, indexPath, "text_encoder", "transformers", "CLIPTextModel");
        var tokenizerClass = ExpectComponent(index, indexPath, "tokenizer", "transformers", "CLIPTokenizer", "CLIPTokenizerFast");
        var schedulerClass = ExpectComponent(index, indexPath, "scheduler", "diffusers");

        var folder = new StableDiffusionFolder(Path.GetFullPath(root), pipelineClass, schedulerClass, tokenizerClass);
        ExpectConfigClass(Path.Combine(folder.UnetFolder, "config.json"), "_class_name", "UNet2DConditionModel");
        ExpectConfigClass(Path.Combine(folder.VaeFolder, "config.json"), "_class_name", "AutoencoderKL");
        ExpectConfigClass(Path.Combine(folder.TextEncoderFolder, "config.json"), "architectures", "CLIPTextModel");
        if (!Directory.Exists(folder.TokenizerFolder))
            throw new DirectoryNotFoundException($"Pipeline folder '{root}' has no tokenizer/ folder.");
        return folder;
    }

    /// <summary>The UNet from unet/, preferring <c>*.{variant}.safetensors</c> when a variant (e.g. fp16) is asked for.</summary>
    public UNet2DConditionModel LoadUnet(Device device, ScalarType dtype, string? variant = null) =>
        UNet2DConditionModel.Load(UnetFolder, device, dtype, variant);

    /// <summary>The VAE from vae/ (legacy attention names accepted).</summary>
    public AutoencoderKL LoadVae(Device device, ScalarType dtype, string? variant = null) =>
        AutoencoderKL.Load(VaeFolder, device, dtype, variant);

    /// <summary>The text encoder from text_encoder/.</summary>
    public ClipTextModel LoadTextEncoder(Device device, ScalarType dtype, string? variant = null) =>
        ClipTextModel.Load(TextEncoderFolder, device, dtype, variant);

    /// <summary>
    /// All three networks. <paramref name="vaeDType"/> defaults to <paramref name="dtype"/>; pass float32 to keep the
    /// VAE in full precision when the config asks for it (<c>force_upcast</c>, SD's VAE overflows in float16).
    /// </summary>
    public StableDiffusionModels LoadModels(Device device, ScalarType dtype, string? variant = null, ScalarType? vaeDType = null)
    {
        var textEncoder = LoadTextEncoder(device, dtype, variant);
        try
        {
            var unet = LoadUnet(device, dtype, variant);
            try
            {
                return new StableDiffusionModels(textEncoder, unet, LoadVae(device, vaeDType ?? dtype, variant));
            }
            catch
            {
                unet.Dispose();
                throw;
            }
        }
        catch
        {
            textEncoder.Dispose();
            throw;
        }
    }

    // Returns the class name; [null, null] entries (optional components left out) fail only for required components.
    private static string ExpectComponent(JsonDocument index, string indexPath, string name, string library, params string[] classes)
    {
        if (!index.RootElement.TryGetProperty(name, out var entry) || entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2
            || entry[0].ValueKind != JsonValueKind.String || entry[1].ValueKind != JsonValueKind.String)
            throw new InvalidDataException($"'{indexPath}' must name the '{name}' component as [\"{library}\", \"<class>\"].");
        var (actualLibrary, actualClass) = (entry[0].GetString()!, entry[1].GetString()!);
        if (actualLibrary != library || (classes.Length > 0 && !classes.Contains(actualClass)))
            throw new NotSupportedException(
                $"'{indexPath}': component '{name}' is [\"{actualLibrary}\", \"{actualClass}\"]; expected library '{library}'" +
                (classes.Length > 0 ? $" and class {string.Join(" or ", classes)}." : "."));
        return actualClass;
    }

    private static void ExpectConfigClass(string configPath, string property, string expected)
    {
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"Component config '{configPath}' is missing.", configPath);
        using var config = JsonDocument.Parse(File.ReadAllText(configPath));
        if (!config.RootElement.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
            return; // older files may lack it; the strict weight load still checks the architecture
        var names = value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Select(v => v.GetString()).ToList()
            : [value.GetString()];
        if (!names.Contains(expected))
            throw new InvalidDataException($"'{configPath}' describes {string.Join(", ", names)}; expected {expected}.");
    }
}

/// <summary>The three networks of a Stable Diffusion pipeline, loaded and in eval mode. Disposing frees their weights.</summary>
public sealed record StableDiffusionModels(ClipTextModel TextEncoder, UNet2DConditionModel Unet, AutoencoderKL Vae) : IDisposable
{
    public void Dispose()
    {
        Vae.Dispose();
        Unet.Dispose();
        TextEncoder.Dispose();
    }
}
