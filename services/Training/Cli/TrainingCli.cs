using MultiModal.Models.Clip;
using MultiModal.Models.Runtime;
using MultiModal.Models.Schedulers;
using MultiModal.ShapesWorld;
using MultiModal.Training.Clip;
using MultiModal.Training.Diffusion;
using MultiModal.Training.Vision;
using MultiModal.Training.World;
using static TorchSharp.torch;

namespace MultiModal.Training.Cli;

/// <summary>The <c>train</c> command line.</summary>
public static class TrainingCli
{
    public const string Usage = """
        usage: Training train clip --out <dir> [--work <dir>] [--steps 1000] [--batch 128] [--lr 1e-3] [--warmup 100]
                                   [--seed 1] [--patch 16] [--vision-width 96] [--text-width 64] [--shape-term 0] [--resume] [--init-from <model.dat>] [--eval-count 500] [--other-images <dir>] [--threads 1]
               Training train vision --clip <clip dir> --out <dir> [--work <dir>] [--steps 1200] [--batch 32] [--lr 2e-3] [--warmup 60]
                                     [--hidden 128] [--layers 2] [--tower-lr-scale 0] [--features full|default] [--seed 1] [--resume] [--eval-count 300] [--threads 1]
               Training train diffusion --clip <clip dir> --out <dir> [--work <dir>] [--size 64] [--vae-width 32] [--unet-width 64] [--unet-layers 1] [--vae-groups 4] [--unet-groups 8] [--snr-gamma 5] [--ema-decay 0.999] [--sampler dpmpp2m|pndm]
                                        [--vae-steps 300] [--unet-steps 1200] [--vae-batch 8] [--batch 24] [--lr 1e-3] [--warmup 50] [--seed 1] [--resume] [--threads 1]
                                        [--continue-from <trained pipeline dir>] [--snapshot-every 0]
               Training eval diffusion --model <dir> --clip <clip dir> [--steps 20] [--guidance 7.5] [--strength 0.8] [--round-trip 64] [--save <dir>] [--seed-offset 0] [--scheduler default|ddim|euler|dpmpp2m|...]
               Training eval vision --model <dir> [--checkpoint <work>/checkpoint/model.dat] [--count 300] [--seed 1000003] [--images <dir>]
               Training eval clip --model <dir> [--checkpoint <work>/checkpoint/model.dat] [--count 500] [--seed 1000003] [--images <dir>]
                                  [--templates trained|heldout] [--by-size]
               Training render --out <dir> [--count 100] [--seed 1000003] [--size 64]
               Training plot --checkpoint <work>/checkpoint --out loss.png [--title clip]
        """;

    public static int Run(string[] args)
    {
        // The libtorch settings the services run with (oneMKL's AVX-512 dispatch on AMD, NNPACK off, OpenMP spin).
        TorchRuntime.Initialize();
        try
        {
            return (args.ElementAtOrDefault(0), args.ElementAtOrDefault(1)) switch
            {
                ("train", "clip") => TrainClip(new CliArgs(args.Skip(2))),
                ("eval", "clip") => EvalClip(new CliArgs(args.Skip(2))),
                ("train", "vision") => TrainVision(new CliArgs(args.Skip(2))),
                ("train", "diffusion") => TrainDiffusion(new CliArgs(args.Skip(2))),
                ("eval", "diffusion") => EvalDiffusion(new CliArgs(args.Skip(2))),
                ("eval", "vision") => EvalVision(new CliArgs(args.Skip(2))),
                ("render", _) => Render(new CliArgs(args.Skip(1))),
                ("plot", _) => Plot(new CliArgs(args.Skip(1))),
                _ => Fail(null),
            };
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
    }

    private static int Fail(string? message)
    {
        if (message is not null)
            Console.Error.WriteLine("error: " + message);
        Console.Error.WriteLine(Usage);
        return 2;
    }

    // What every train command does once its options are read: refuse unknown options, check the trained CLIP folder a
    // model builds on, and set libtorch's intra-op threads. One thread by default: on a shared 2-core machine (load ~20)
    // libtorch's spinning OpenMP workers made a step 4-5x slower in wall time than one thread (10 steps: 72 s with 2
    // threads, 16 s with 1).
    private static void BeginTraining(CliArgs a, string? trainedClipFolder)
    {
        var threads = a.Int("threads", 1);
        a.RejectUnknown();
        if (trainedClipFolder is not null && !File.Exists(Path.Combine(trainedClipFolder, "config.json")))
            throw new ArgumentException($"--clip {trainedClipFolder}: no config.json there (expected a trained CLIP folder, e.g. builtin-models/clip)");
        set_num_threads(threads);
    }

    private static int TrainClip(CliArgs a)
    {
        var output = a.Required("out");
        var options = new ClipTrainingOptions
        {
            OutputFolder = output,
            WorkDirectory = a.String("work") ?? Path.Combine("artifacts", "train", "clip"),
            Steps = a.Int("steps", 1000),
            BatchSize = a.Int("batch", 128),
            LearningRate = a.Double("lr", 1e-3),
            WarmupSteps = a.Int("warmup", 100),
            Seed = a.Int("seed", 1),
            PatchSize = a.Int("patch", 16),
            VisionWidth = a.Int("vision-width", 96),
            TextWidth = a.Int("text-width", 64),
            ShapeTerm = a.Double("shape-term", 0),
            InitFrom = a.String("init-from"),
            Resume = a.Flag("resume"),
            EvalCount = a.Int("eval-count", 500),
            OtherRendererImages = a.String("other-images"),
        };
        BeginTraining(a, trainedClipFolder: null);
        var report = ClipTrainer.Train(options);
        Console.WriteLine($"clip: trained in {report.TrainingTime.TotalMinutes:F1} min, loss {report.FirstLoss:F3} -> {report.LastLoss:F3}");
        Console.WriteLine($"clip: held-out rendered {report.HeldOut}");
        Console.Write(report.HeldOut.Breakdown());
        Console.WriteLine($"clip: held-out rendered, {ZeroShotTemplates.HeldOut.Name} {report.HeldOutUnseenPrompts}");
        if (report.OtherRenderer is { } other)
            Console.WriteLine($"clip: other renderer {other}");
        Console.WriteLine($"clip: wrote {output} ({report.FolderBytes / 1048576.0:F1} MiB)");
        return 0;
    }

    private static int TrainVision(CliArgs a)
    {
        var output = a.Required("out");
        var options = new VisionTrainingOptions
        {
            ClipFolder = a.Required("clip"),
            OutputFolder = output,
            WorkDirectory = a.String("work") ?? Path.Combine("artifacts", "train", "vision"),
            Steps = a.Int("steps", 1200),
            BatchSize = a.Int("batch", 32),
            LearningRate = a.Double("lr", 2e-3),
            WarmupSteps = a.Int("warmup", 60),
            Hidden = a.Int("hidden", 128),
            Layers = a.Int("layers", 2),
            TowerLearningRateScale = a.Double("tower-lr-scale", 0),
            FeatureStrategy = a.String("features") ?? "full",
            Seed = a.Int("seed", 1),
            Resume = a.Flag("resume"),
            EvalCount = a.Int("eval-count", 300),
        };
        BeginTraining(a, options.ClipFolder);
        var report = VisionTrainer.Train(options);
        Console.WriteLine($"vision: trained in {report.TrainingTime.TotalMinutes:F1} min, loss {report.FirstLoss:F3} -> {report.LastLoss:F3}");
        Console.WriteLine($"vision: held-out rendered {report.HeldOut}");
        foreach (var sample in report.HeldOut.Samples)
            Console.WriteLine($"  {sample}");
        Console.WriteLine($"vision: wrote {output} ({report.FolderBytes / 1048576.0:F1} MiB)");
        return 0;
    }

    private static int TrainDiffusion(CliArgs a)
    {
        var output = a.Required("out");
        var options = new DiffusionTrainingOptions
        {
            ClipFolder = a.Required("clip"),
            OutputFolder = output,
            WorkDirectory = a.String("work") ?? Path.Combine("artifacts", "train", "diffusion"),
            ImageSize = a.Int("size", 64),
            VaeWidth = a.Int("vae-width", 32),
            UnetWidth = a.Int("unet-width", 64),
            UnetLayers = a.Int("unet-layers", 1),
            VaeGroups = a.Int("vae-groups", 4),
            UnetGroups = a.Int("unet-groups", 8),
            VaeSteps = a.Int("vae-steps", 300),
            UnetSteps = a.Int("unet-steps", 1200),
            VaeBatchSize = a.Int("vae-batch", 8),
            BatchSize = a.Int("batch", 24),
            LearningRate = a.Double("lr", 1e-3),
            WarmupSteps = a.Int("warmup", 50),
            SnrGamma = a.OptionalDouble("snr-gamma"),
            EmaDecay = a.OptionalDouble("ema-decay"),
            Sampler = ParseScheduler(a.String("sampler") ?? nameof(SchedulerKind.DpmPP2M), "sampler"),
            Seed = a.Int("seed", 1),
            Resume = a.Flag("resume"),
            ContinueFrom = a.String("continue-from"),
            SnapshotEvery = a.Int("snapshot-every", 0),
        };
        if (options.SnapshotEvery < 0 || options.SnapshotEvery % options.CheckpointEvery != 0)
            throw new ArgumentException($"--snapshot-every {options.SnapshotEvery}: must be 0 (none) or a positive multiple of the checkpoint interval ({options.CheckpointEvery})");
        if (options.SnrGamma is <= 0)
            throw new ArgumentException($"--snr-gamma {options.SnrGamma}: must be positive (5 is Min-SNR's usual choice)");
        if (options.EmaDecay is not (null or (> 0 and < 1)))
            throw new ArgumentException($"--ema-decay {options.EmaDecay}: must be between 0 and 1 (0.999 averages over ~1000 steps)");
        if (options.UnetLayers < 1)
            throw new ArgumentException($"--unet-layers {options.UnetLayers}: a UNet block needs at least one layer");
        BeginTraining(a, options.ClipFolder);
        var report = DiffusionTrainer.Train(options);
        Console.WriteLine($"diffusion: autoencoder {report.VaeTime.TotalMinutes:F1} min, loss {report.VaeFirstLoss:F4} -> {report.VaeLastLoss:F4}; scaling_factor {report.ScalingFactor:F4}");
        Console.WriteLine($"diffusion: unet {report.UnetTime.TotalMinutes:F1} min, loss {report.UnetFirstLoss:F4} -> {report.UnetLastLoss:F4}");
        Console.WriteLine($"diffusion: wrote {output} ({report.FolderBytes / 1048576.0:F1} MiB)");
        return 0;
    }

    private static int EvalDiffusion(CliArgs a)
    {
        var folder = a.Required("model");
        var clip = a.Required("clip");
        var steps = a.Int("steps", 20);
        var guidance = a.Double("guidance", 7.5);
        var save = a.String("save");
        var strength = a.Double("strength", 0.8);
        var roundTripCount = a.Int("round-trip", 64);
        var seedOffset = a.Int("seed-offset", 0);
        var scheduler = ParseScheduler(a.String("scheduler") ?? nameof(SchedulerKind.Default));
        a.RejectUnknown();
        if (seedOffset < 0)
            throw new ArgumentException($"--seed-offset {seedOffset}: seeds are offset + prompt index, so it must be 0 or more");
        using var evaluation = new DiffusionEvaluation(folder, clip, (ulong)seedOffset, scheduler);
        var result = evaluation.Run(steps, guidance, save);
        Console.WriteLine($"diffusion: 32 prompts (every color x shape, seed = {(seedOffset == 0 ? "index" : $"{seedOffset} + index")}), {steps} steps ({scheduler} scheduler), guidance {guidance}, classified by {clip}: {result}");
        Console.Write(result.Breakdown());
        var recolor = evaluation.Run(steps, guidance, save is null ? null : Path.Combine(save, "img2img"), strength);
        Console.WriteLine($"diffusion: recolouring (img2img at strength {strength} from the same shape in the next color): {recolor.Count} images, " +
            $"took the prompt's color {recolor.ColorAccuracy:P1}, kept the shape {recolor.ShapeAccuracy:P1}");
        var (rendered, roundTrip) = evaluation.RoundTrip(roundTripCount, save is null ? null : Path.Combine(save, "round-trip"));
        Console.WriteLine($"diffusion: held-out scenes rendered at {evaluation.ImageSize} px, classified as rendered: {rendered}");
        Console.WriteLine($"diffusion: the same through the autoencoder (encode, decode; the ceiling of the checks above): {roundTrip}");
        Console.Write(roundTrip.Breakdown());
        return 0;
    }

    private static SchedulerKind ParseScheduler(string name, string option = "scheduler") =>
        Enum.TryParse<SchedulerKind>(name, ignoreCase: true, out var kind) && Enum.IsDefined(kind) && !int.TryParse(name, out _)
            ? kind
            : throw new ArgumentException($"--{option} {name}: one of {string.Join(", ", Enum.GetNames<SchedulerKind>())}");

    private static int EvalVision(CliArgs a)
    {
        var folder = a.Required("model");
        var count = a.Int("count", 300);
        var seed = a.Int("seed", SceneSampler.HeldOutSeed);
        var images = a.String("images");
        var checkpoint = a.String("checkpoint");
        a.RejectUnknown();
        var size = ClipImageProcessor.FromFolder(folder).ImageSize;
        var set = images is null ? LabeledImages.Rendered(seed, count, size) : LabeledImages.FromFolder(images);
        var result = VisionTrainer.Evaluate(folder, set, checkpoint);
        Console.WriteLine($"{(images is null ? $"rendered (seed {seed})" : images)}: {result}");
        foreach (var sample in result.Samples)
            Console.WriteLine($"  {sample}");
        return 0;
    }

    private static int EvalClip(CliArgs a)
    {
        var folder = a.Required("model");
        var count = a.Int("count", 500);
        var seed = a.Int("seed", SceneSampler.HeldOutSeed);
        var images = a.String("images");
        var checkpoint = a.String("checkpoint");
        var templates = ZeroShotTemplates.Parse(a.String("templates"));
        var bySize = a.Flag("by-size");
        a.RejectUnknown();
        using var model = ClipCheckpoint.Load(folder, CPU, ScalarType.Float32);
        if (checkpoint is not null)
            model.load(checkpoint);   // a training checkpoint's weights (the folder gives config and tokenizer)
        var processor = ClipImageProcessor.FromFolder(folder);
        var set = images is null ? LabeledImages.Rendered(seed, count, processor.ImageSize) : LabeledImages.FromFolder(images);
        var result = ZeroShotEvaluation.Run(model, ClipTokenizer.FromFolder(folder), processor, set, templates);
        Console.WriteLine($"{(images is null ? $"rendered (seed {seed})" : images)}, {templates.Name}: {result}");
        if (bySize)
            Console.Write(result.Breakdown());
        return 0;
    }

    private static int Plot(CliArgs a)
    {
        var checkpoint = a.Required("checkpoint");
        var output = a.Required("out");
        var title = a.String("title") ?? "loss";
        a.RejectUnknown();
        var state = System.Text.Json.JsonSerializer.Deserialize<Loop.TrainingCheckpoint.State>(File.ReadAllText(Path.Combine(checkpoint, "state.json")))
            ?? throw new ArgumentException($"{checkpoint}/state.json is empty");
        Loop.LossCurvePlot.Save(output, $"{title}: loss per step", state.Losses);
        Console.WriteLine($"wrote {output} ({state.Losses.Count} steps)");
        return 0;
    }

    private static int Render(CliArgs a)
    {
        var output = a.Required("out");
        var count = a.Int("count", 100);
        var seed = a.Int("seed", SceneSampler.HeldOutSeed);
        var size = a.Int("size", 64);
        a.RejectUnknown();
        var scenes = SceneSampler.Scenes(seed, 0, count).ToList();
        LabeledImages.Write(output, scenes.Select((s, i) =>
            (new LabeledImage($"{i:D5}.png", SceneRenderer.RenderPng(s, size), s.Color, s.Shape, s.Size), s)));
        Console.WriteLine($"wrote {count} images of seed {seed} ({size} px) and {LabeledImages.LabelsFile} to {output}");
        return 0;
    }
}
