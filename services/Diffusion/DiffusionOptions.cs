using System.ComponentModel.DataAnnotations;

namespace MultiModal.Diffusion;

/// <summary>
/// Service options, section "Diffusion" (appsettings.json → environment <c>Diffusion__MaxQueueLength</c> → command line
/// <c>--Diffusion:MaxQueueLength=</c>). Model hyperparameters are never here: they come from the pipeline folder.
/// One job runs at a time (one worker thread per process, i.e. per device); scale out with more processes.
/// </summary>
public sealed class DiffusionOptions
{
    public const string Section = "Diffusion";

    /// <summary>diffusers Stable Diffusion folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/).</summary>
    [Required] public string ModelPath { get; set; } = "";

    /// <summary>Name reported by GetModelInfo and written into PNG parameters; defaults to the folder name.</summary>
    public string? ModelName { get; set; }

    /// <summary>auto | cpu | cuda | cuda:N.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>auto (float32 on CPU, float16 on CUDA) | float32 | float16 | bfloat16.</summary>
    public string DType { get; set; } = "auto";

    /// <summary>Weights variant to prefer, e.g. "fp16" for <c>*.fp16.safetensors</c>; empty for the plain files.</summary>
    public string? Variant { get; set; }

    /// <summary>Jobs allowed to wait behind the running one; beyond it calls get RESOURCE_EXHAUSTED (QUEUE_FULL).</summary>
    [Range(1, 10_000)] public int MaxQueueLength { get; set; } = 16;

    /// <summary>Largest output width × height.</summary>
    [Range(64, 16_777_216)] public int MaxPixels { get; set; } = 1024 * 1024;

    /// <summary>Most denoising steps a request may ask for.</summary>
    [Range(1, 1000)] public int MaxSteps { get; set; } = 150;

    /// <summary>Most images per request.</summary>
    [Range(1, 64)] public int MaxImages { get; set; } = 4;

    /// <summary>How often a waiting job's stream repeats its queue position, so proxies do not cut an idle stream.</summary>
    [Range(1, 300)] public int HeartbeatSeconds { get; set; } = 5;

    /// <summary>Largest preview max_size a request may ask for (longest side of preview images).</summary>
    [Range(8, 4096)] public int PreviewMaxSize { get; set; } = 1024;

    /// <summary>Previews buffered for a slow client before the oldest is dropped (its progress event still goes out).</summary>
    [Range(1, 64)] public int MaxPendingPreviews { get; set; } = 2;

    /// <summary>Longest prompt or negative prompt in characters (the tokenizer keeps 77 tokens in any case).</summary>
    [Range(1, 1_000_000)] public int MaxPromptChars { get; set; } = 10_000;

    /// <summary>JPEG and WebP quality (0-100) of results; previews are JPEG at this quality too.</summary>
    [Range(1, 100)] public int OutputQuality { get; set; } = 90;

    /// <summary>Largest encoded init image accepted, in bytes (the gRPC message limit is Grpc:MaxReceiveMessageBytes).</summary>
    [Range(1, long.MaxValue)] public long MaxImageBytes { get; set; } = 20L << 20;

    /// <summary>Largest init image accepted, width × height read from the header before decoding.</summary>
    [Range(1, long.MaxValue)] public long MaxImagePixels { get; set; } = 40_000_000;
}
