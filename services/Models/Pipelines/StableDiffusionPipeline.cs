// Port of diffusers v0.25.1 StableDiffusionPipeline.__call__ and StableDiffusionImg2ImgPipeline.__call__ (no IP-adapter,
// LoRA, safety checker or guidance rescale), called with one prompt, num_images_per_prompt = number of seeds and
// generator = [torch.Generator("cpu").manual_seed(s) for s in seeds], output_type "pil".
// One deliberate difference: with several images, img2img encodes the init image once per image and samples each
// image's posterior with that image's generator, as diffusers ≥ 0.26 does (0.25.1 slices image[i:i+1] of a one-image
// batch and duplicates row 0); a single-image img2img is identical in both.
using System.Diagnostics;
using MultiModal.Models.Clip;
using MultiModal.Models.Runtime;
using MultiModal.Models.Schedulers;
using MultiModal.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Pipelines;

/// <summary>
/// Stable Diffusion 1.x/2.x text-to-image and image-to-image on one device. Not thread-safe: the caller runs one
/// generation at a time (the service's single device thread).
/// </summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    private readonly StableDiffusionModels _models;
    private readonly ClipTokenizer _tokenizer;

    private StableDiffusionPipeline(StableDiffusionFolder folder, StableDiffusionModels models, ClipTokenizer tokenizer,
        SchedulerConfig schedulerConfig, Device device)
    {
        Folder = folder;
        _models = models;
        _tokenizer = tokenizer;
        SchedulerConfig = schedulerConfig;
        Device = device;
        var unetConfig = models.Unet.Config;
        var vaeConfig = models.Vae.Config;
        var sampleSize = unetConfig.SampleSize
            ?? throw new InvalidDataException($"'{folder.UnetFolder}/config.json' has no sample_size; the pipeline's native size is unknown.");
        Rules = new GenerationRules(sampleSize * vaeConfig.ScaleFactor, sampleSize * vaeConfig.ScaleFactor, vaeConfig.ScaleFactor,
            models.TextEncoder.Config.NumHiddenLayers, vaeConfig.LatentChannels);
        DefaultScheduler = KindOf(schedulerConfig);
    }

    /// <summary>The pipeline folder the weights came from.</summary>
    public StableDiffusionFolder Folder { get; }

    /// <summary>Where the networks run.</summary>
    public Device Device { get; }

    /// <summary>dtype of the UNet and text encoder (the VAE may be float32, see <see cref="Load"/>).</summary>
    public ScalarType DType => _models.Unet.DType;

    /// <summary>scheduler/scheduler_config.json, resolved for its own class.</summary>
    public SchedulerConfig SchedulerConfig { get; }

    /// <summary>Request checks and size rules (usable before queueing).</summary>
    public GenerationRules Rules { get; }

    /// <summary>unet sample_size × VAE scale factor (512 for SD 1.5).</summary>
    public int NativeWidth => Rules.NativeWidth;

    /// <summary>unet sample_size × VAE scale factor.</summary>
    public int NativeHeight => Rules.NativeHeight;

    /// <summary>The scheduler <see cref="SchedulerKind.Default"/> runs: the folder's own class.</summary>
    public SchedulerKind DefaultScheduler { get; }

    /// <summary>The folder scheduler's prediction type as diffusers names it: "epsilon" or "v_prediction".</summary>
    public string PredictionType => SchedulerConfig.PredictionType == Schedulers.PredictionType.VPrediction ? "v_prediction" : "epsilon";

    /// <summary>The loaded networks.</summary>
    public StableDiffusionModels Models => _models;

    /// <summary>
    /// Opens a diffusers SD folder and loads text encoder, UNet and VAE on <paramref name="device"/> in
    /// <paramref name="dtype"/>, preferring <c>*.{variant}.safetensors</c>. As diffusers does, a float16 pipeline keeps
    /// the VAE in float32 when its config says <c>force_upcast</c> (SD's VAE overflows in float16).
    /// </summary>
    public static StableDiffusionPipeline Load(string folder, Device device, ScalarType dtype, string? variant = null)
    {
        var opened = StableDiffusionFolder.Open(folder);
        var vaeConfig = AutoencoderKLConfig.Load(Path.Combine(opened.VaeFolder, "config.json"));
        ScalarType? vaeDType = dtype == ScalarType.Float16 && vaeConfig.ForceUpcast ? ScalarType.Float32 : null;
        var tokenizer = ClipTokenizer.FromFolder(opened.TokenizerFolder);
        var schedulerConfig = SchedulerConfig.Load(opened.SchedulerConfigPath);
        _ = SchedulerFactory.Create(schedulerConfig); // fail at load, not at the first request, on an unsupported scheduler
        var models = opened.LoadModels(device, dtype, variant, vaeDType);
        return new StableDiffusionPipeline(opened, models, tokenizer, schedulerConfig, device);
    }

    /// <summary>The output size of <paramref name="request"/> (<see cref="GenerationRules.ResolveSize"/>).</summary>
    public (int Width, int Height) ResolveSize(GenerationRequest request) => Rules.ResolveSize(request);

    /// <summary>
    /// Denoising steps the request runs and reports through onStep: <c>Steps</c> (txt2img) or ⌊Steps × Strength⌋
    /// (img2img), diffusers' progress total. PNDM makes one more UNet call than this (its first step evaluates twice).
    /// Validates the request.
    /// </summary>
    public int StepsToRun(GenerationRequest request) => Schedule(request).Steps;

    /// <summary>Validates <paramref name="request"/> and builds its scheduler and the timesteps it runs.</summary>
    public GenerationSchedule Schedule(GenerationRequest request)
    {
        Rules.Validate(request);
        return GenerationRules.Schedule(request, SchedulerConfig);
    }

    /// <summary>Checks every field of <paramref name="request"/>; throws <see cref="Errors.InputRejectedException"/> naming the field.</summary>
    public void Validate(GenerationRequest request) => Schedule(request);

    /// <summary>
    /// Runs the whole generation on the calling thread. Calls <paramref name="onStep"/> after every denoising step
    /// (with a preview when one is due: every N steps and after the last). Checks <paramref name="cancellation"/>
    /// before every step and before decoding, throwing <see cref="OperationCanceledException"/>. Frees its tensors
    /// whatever happens.
    /// </summary>
    public GenerationOutput Generate(GenerationRequest request, Action<DenoisingStep>? onStep, CancellationToken cancellation)
    {
        var schedule = Schedule(request);
        var (scheduler, timesteps) = (schedule.Scheduler, schedule.Timesteps);
        var (width, height) = Rules.ResolveSize(request);
        cancellation.ThrowIfCancellationRequested();

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var generators = request.Seeds.Select(seed => new Generator(seed, CPU)).ToArray();
        try
        {
            var clock = Stopwatch.StartNew();
            var prompt = EncodePrompt(request);
            var encodeTime = clock.Elapsed;

            clock.Restart();
            var n = generators.Length;
            Tensor latents;
            if (request.InitImage is null)
            {
                // prepare_latents: randn_tensor(shape, generator list) row by row, × init_noise_sigma
                using var drawn = RandnTensor.Randn(LatentShape(n, width, height), DType, Device, generators);
                latents = drawn.mul(scheduler.InitNoiseSigma);
            }
            else
            {
                // each image's generator draws its posterior sample first, then its noise
                latents = Img2ImgLatents(request, width, height, scheduler, timesteps[0],
                    posterior => cat(generators.Select(g => posterior.Sample(g)).ToArray(), dim: 0),
                    shape => RandnTensor.Randn(shape, DType, Device, generators)).Noised;
            }

            // diffusers' progress: PNDM's warm-up evaluation is part of step 1, reported once step 1 is done
            var total = schedule.Steps;
            var preview = request.Preview ?? PreviewRequest.None;
            latents = Denoise(request, scheduler, timesteps, latents, prompt.Embeddings, new GeneratorNoise(generators), cancellation,
                (index, current, predictedOriginal) =>
                {
                    var step = index - schedule.WarmupEvaluations + 1;
                    if (step < 1) return;
                    var due = preview.Enabled && (step % preview.EveryNSteps == 0 || step == total);
                    var frame = due ? MakePreview(preview, current, predictedOriginal) : null;
                    onStep?.Invoke(new DenoisingStep(step, total, frame));
                });
            var denoiseTime = clock.Elapsed;

            cancellation.ThrowIfCancellationRequested();
            clock.Restart();
            using var unitRange = DecodeToUnitRange(latents);
            var images = VaeImageProcessing.ToImages(unitRange);
            var decodeTime = clock.Elapsed;

            var used = request.Scheduler == SchedulerKind.Default ? DefaultScheduler : request.Scheduler;
            return new GenerationOutput(images, prompt.Truncated, total, used, encodeTime, denoiseTime, decodeTime);
        }
        finally
        {
            foreach (var generator in generators)
                generator.Dispose();
        }
    }

    /// <summary>
    /// txt2img from explicit latents, diffusers' <c>latents=</c> argument (B, 4, h, w) in N(0, 1) (the pipeline
    /// multiplies them by init_noise_sigma); <c>Seeds</c> only sets the image count. Stochastic schedulers draw their
    /// step noise from <paramref name="stepNoise"/>. For golden tests and tools; the caller owns the result.
    /// </summary>
    public PipelineRun Txt2ImgFromLatents(GenerationRequest request, Tensor latents, INoiseSource? stepNoise = null)
    {
        if (request.InitImage is not null)
            throw new ArgumentException("Txt2ImgFromLatents takes a request without an init image.", nameof(request));
        var (scheduler, timesteps, _) = Schedule(request);
        var (width, height) = Rules.ResolveSize(request);
        var expected = LatentShape(request.Seeds.Count, width, height);
        if (!latents.shape.SequenceEqual(expected))
            throw new ArgumentException($"latents must be [{string.Join(", ", expected)}]; got [{string.Join(", ", latents.shape)}].", nameof(latents));

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var prompt = EncodePrompt(request);
        var start = latents.to(DType, Device).mul(scheduler.InitNoiseSigma);
        return Collect(request, scheduler, timesteps, start, prompt, stepNoise, initLatents: null);
    }

    /// <summary>
    /// img2img with explicit <paramref name="noise"/> (B, 4, h, w) for <c>add_noise</c> and the posterior mean instead
    /// of a sample: what the golden run made deterministic by patching <c>latent_dist.sample</c> and <c>randn_tensor</c>.
    /// For golden tests and tools; the caller owns the result.
    /// </summary>
    public PipelineRun Img2ImgFromNoise(GenerationRequest request, Tensor noise, INoiseSource? stepNoise = null)
    {
        if (request.InitImage is null)
            throw new ArgumentException("Img2ImgFromNoise needs a request with an init image.", nameof(request));
        var (scheduler, timesteps, _) = Schedule(request);
        var (width, height) = Rules.ResolveSize(request);
        var n = request.Seeds.Count;

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var prompt = EncodePrompt(request);
        var (init, noised) = Img2ImgLatents(request, width, height, scheduler, timesteps[0],
            posterior => posterior.Mean.expand(n, -1, -1, -1).contiguous(),
            shape => shape.SequenceEqual(noise.shape)
                ? noise.to(DType, Device)
                : throw new ArgumentException($"noise must be [{string.Join(", ", shape)}]; got [{string.Join(", ", noise.shape)}].", nameof(noise)));
        return Collect(request, scheduler, timesteps, noised, prompt, stepNoise, init);
    }

    public void Dispose() => _models.Dispose();

    private long[] LatentShape(int images, int width, int height)
    {
        var f = _models.Vae.Config.ScaleFactor;
        return [images, _models.Unet.Config.InChannels, height / f, width / f];
    }

    private PromptEmbeddings EncodePrompt(GenerationRequest request) =>
        PromptEncoding.Encode(_tokenizer, _models.TextEncoder, request.Prompt, request.NegativePrompt, request.Seeds.Count,
            request.UsesGuidance, request.ClipSkip, Device, DType);

    // StableDiffusionImg2ImgPipeline: preprocess → vae.encode → sample × scaling_factor → add_noise at the first timestep.
    private (Tensor Init, Tensor Noised) Img2ImgLatents(GenerationRequest request, int width, int height, IScheduler scheduler,
        double startTimestep, Func<DiagonalGaussian, Tensor> sample, Func<long[], Tensor> noise)
    {
        var vae = _models.Vae;
        using var image = VaeImageProcessing.Preprocess(request.InitImage!, width, height, Device, vae.DType); // (1, 3, H, W)
        using var posterior = vae.Encode(image);
        using var sampled = sample(posterior);                                                                 // (n, 4, h, w)
        var init = sampled.mul(vae.Config.ScalingFactor).to(DType);
        using var drawn = noise(init.shape);
        return (init, scheduler.AddNoise(init, drawn, startTimestep));
    }

    // The denoising loop. Tensors the scheduler keeps (multistep history) live in the caller's dispose scope.
    private Tensor Denoise(GenerationRequest request, IScheduler scheduler, IReadOnlyList<double> timesteps, Tensor latents,
        Tensor embeddings, INoiseSource? stepNoise, CancellationToken cancellation, Action<int, Tensor, Func<Tensor>>? afterStep)
    {
        var unet = _models.Unet;
        var guidance = request.UsesGuidance;
        var scale = (float)request.GuidanceScale;
        for (var i = 0; i < timesteps.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var t = timesteps[i];
            Tensor noisePred;
            using (NewDisposeScope())
            {
                // classifier-free guidance: ONE UNet call on [latents; latents] with [negative; prompt] embeddings
                var modelInput = guidance ? cat([latents, latents], dim: 0) : latents;                   // (2n | n, 4, h, w)
                var scaled = scheduler.ScaleModelInput(modelInput, t);
                var timestep = tensor(t, scheduler.TimestepDtype, Device);                                // 0-dim, like scheduler.timesteps[i]
                var output = unet.Forward(scaled, timestep, embeddings);
                if (guidance)
                {
                    var halves = output.chunk(2, dim: 0);
                    noisePred = halves[0] + scale * (halves[1] - halves[0]);                                 // uncond + s·(text − uncond)
                }
                else
                {
                    noisePred = output;
                }
                noisePred.MoveToOuterDisposeScope();
            }

            var before = latents;
            var step = scheduler.Step(noisePred, t, latents, stepNoise);
            latents = step.PrevSample;
            afterStep?.Invoke(i, latents, () => step.PredOriginalSample
                ?? LatentPreview.PredictOriginal(scheduler.Config, NoiseSchedules.AlphasCumprod(scheduler.Config), noisePred, before, t));
        }
        return latents;
    }

    private PreviewFrame MakePreview(PreviewRequest preview, Tensor latents, Func<Tensor> predictedOriginal)
    {
        using var scope = NewDisposeScope();
        switch (preview.Kind)
        {
            case PreviewKind.Approximate:
                return new PreviewFrame(LatentPreview.ApproximateRgb(predictedOriginal(), preview.MaxSize), null, null);
            case PreviewKind.FullDecode:
                var unitRange = DecodeToUnitRange(predictedOriginal());
                var images = VaeImageProcessing.ToImages(unitRange).Select(i => VaeImageProcessing.FitWithin(i, preview.MaxSize)).ToArray();
                return new PreviewFrame(images, null, null);
            case PreviewKind.Latents:
                var values = latents.to(ScalarType.Float32).cpu().contiguous();
                return new PreviewFrame([], values.data<float>().ToArray(), values.shape.ToArray());
            default:
                throw new ArgumentOutOfRangeException(nameof(preview), preview.Kind, "No preview for this kind.");
        }
    }

    // vae.decode(latents / scaling_factor) → VaeImageProcessor.postprocess ("np"): (B, H, W, 3) float32 on the CPU.
    private Tensor DecodeToUnitRange(Tensor latents)
    {
        using var scope = NewDisposeScope();
        var vae = _models.Vae;
        var z = latents.to(vae.DType) / vae.Config.ScalingFactor;
        var decoded = vae.Decode(z);                                                                           // (B, 3, H, W)
        return VaeImageProcessing.ToUnitRange(decoded).MoveToOuterDisposeScope();
    }

    private PipelineRun Collect(GenerationRequest request, IScheduler scheduler, IReadOnlyList<double> timesteps, Tensor start,
        PromptEmbeddings prompt, INoiseSource? stepNoise, Tensor? initLatents)
    {
        var stepLatents = new List<Tensor>();
        var predicted = new List<Tensor>();
        var latents = Denoise(request, scheduler, timesteps, start, prompt.Embeddings, stepNoise, CancellationToken.None,
            (_, current, predictedOriginal) =>
            {
                stepLatents.Add(current.clone());
                predicted.Add(predictedOriginal().clone());
            });
        var image = DecodeToUnitRange(latents);
        return new PipelineRun(
            image.DetachFromDisposeScope(),
            stepLatents.Select(t => t.DetachFromDisposeScope()).ToArray(),
            predicted.Select(t => t.DetachFromDisposeScope()).ToArray(),
            initLatents?.DetachFromDisposeScope(),
            start.DetachFromDisposeScope(),
            prompt.Truncated);
    }

    private static SchedulerKind KindOf(SchedulerConfig config) => config.ClassName switch
    {
        SchedulerClasses.Ddim => SchedulerKind.Ddim,
        SchedulerClasses.Pndm => SchedulerKind.Pndm,
        SchedulerClasses.EulerDiscrete => SchedulerKind.Euler,
        SchedulerClasses.EulerAncestralDiscrete => SchedulerKind.EulerAncestral,
        SchedulerClasses.DpmSolverMultistep => config.UseKarrasSigmas ? SchedulerKind.DpmPP2MKarras : SchedulerKind.DpmPP2M,
        SchedulerClasses.LmsDiscrete => SchedulerKind.Lms,
        SchedulerClasses.Ddpm => SchedulerKind.Ddpm,
        _ => throw new NotSupportedException($"Scheduler class '{config.ClassName}' is not supported."),
    };
}

/// <summary>A generation's tensors, for golden tests and tools. Disposing frees them.</summary>
/// <param name="Image">diffusers' <c>output_type="np"</c> image (B, H, W, 3), float32 in [0, 1], on the CPU.</param>
/// <param name="StepLatents">The latents after each denoising step (B, 4, h, w).</param>
/// <param name="PredictedOriginals">x̂₀ at each step (the scheduler's, or computed for PNDM).</param>
/// <param name="InitLatents">img2img: scaling_factor × the encoded init image, before noising.</param>
/// <param name="StartLatents">The latents the loop started from (txt2img: × init_noise_sigma; img2img: noised).</param>
/// <param name="PromptTruncated">The prompt or negative prompt was cut to 77 tokens.</param>
public sealed record PipelineRun(Tensor Image, IReadOnlyList<Tensor> StepLatents, IReadOnlyList<Tensor> PredictedOriginals,
    Tensor? InitLatents, Tensor StartLatents, bool PromptTruncated) : IDisposable
{
    public void Dispose()
    {
        Image.Dispose();
        foreach (var t in StepLatents) t.Dispose();
        foreach (var t in PredictedOriginals) t.Dispose();
        InitLatents?.Dispose();
        StartLatents.Dispose();
    }
}
