using MultiModal.ShapesWorld;

namespace MultiModal.Training.Clip;

/// <summary>Options of <c>train clip</c> (defaults: the recipe of the committed built-in CLIP).</summary>
public sealed record ClipTrainingOptions
{
    public required string OutputFolder { get; init; }
    public required string WorkDirectory { get; init; }
    public int Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 100;
    public double WeightDecay { get; init; } = 0.1;
    public double GradientClip { get; init; } = 1.0;
    public int CheckpointEvery { get; init; } = 100;
    public int Seed { get; init; } = 1;
    /// <summary>Vision patch size (64-px images): 16 gives 4×4 patches, 8 gives 8×8 (4× the vision tokens).</summary>
    public int PatchSize { get; init; } = 16;
    /// <summary>Vision and text widths (hidden sizes; MLP 4×): the committed model's are 96 and 64.</summary>
    public int VisionWidth { get; init; } = 96;
    public int TextWidth { get; init; } = 64;
    /// <summary>Weight of the 4-way shape term (each image against the four shape texts); 0: the committed recipe.</summary>
    public double ShapeTerm { get; init; }
    public bool Resume { get; init; }
    /// <summary>Optional: start from these weights (a checkpoint's model.dat) instead of a random init: a second phase.</summary>
    public string? InitFrom { get; init; }
    /// <summary>Held-out evaluation: scenes 0 … EvalCount − 1 of the set with EvalSeed (training uses Seed).</summary>
    public int EvalCount { get; init; } = 500;
    public int EvalSeed { get; init; } = SceneSampler.HeldOutSeed;
    /// <summary>Optional folder of images rendered by another program (render_world.py), evaluated too.</summary>
    public string? OtherRendererImages { get; init; }

    /// <summary>What must match for a checkpoint to be resumed.</summary>
    public string Fingerprint => $"clip texts={ClipWorldBatches.TextsPerImage} patch={PatchSize} steps={Steps} batch={BatchSize} lr={LearningRate} warmup={WarmupSteps} wd={WeightDecay} clip={GradientClip} seed={Seed} init={InitFrom} vw={VisionWidth} tw={TextWidth} shape={ShapeTerm}";
}
