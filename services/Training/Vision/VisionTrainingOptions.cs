using MultiModal.ShapesWorld;

namespace MultiModal.Training.Vision;

/// <summary>Options of <c>train vision</c> (defaults: the recipe of the built-in LLaVA).</summary>
public sealed record VisionTrainingOptions
{
    /// <summary>The trained CLIP folder (transformers CLIPModel layout) whose vision tower LLaVA starts from.</summary>
    public required string ClipFolder { get; init; }
    public required string OutputFolder { get; init; }
    public required string WorkDirectory { get; init; }
    public int Steps { get; init; } = 1200;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 2e-3;
    public int WarmupSteps { get; init; } = 60;
    public double WeightDecay { get; init; } = 0.05;
    public double GradientClip { get; init; } = 1.0;
    public int CheckpointEvery { get; init; } = 100;
    public int Seed { get; init; } = 1;
    public int Hidden { get; init; } = 128;
    public int Layers { get; init; } = 2;
    /// <summary>
    /// The CLIP tower's learning rate as a multiple of the rest's: 0 keeps it as trained (frozen: only projector and
    /// decoder learn). At the full rate (1) fine-tuning wrecked the tower's shape features (shape 52.3 % against 67.3 %
    /// frozen, builtin-models/vision/README.md).
    /// </summary>
    public double TowerLearningRateScale { get; init; }
    public bool FreezeTower => TowerLearningRateScale == 0;
    /// <summary>vision_feature_select_strategy: "full" (the CLS row too: shape 95.0 % against 88.3 %) or "default" (patch rows only, LLaVA-1.5).</summary>
    public string FeatureStrategy { get; init; } = "full";
    public bool Resume { get; init; }
    /// <summary>Held-out evaluation: scenes 0 … EvalCount − 1 of the set with EvalSeed (training uses Seed).</summary>
    public int EvalCount { get; init; } = 300;
    public int EvalSeed { get; init; } = SceneSampler.HeldOutSeed;

    /// <summary>What must match for a checkpoint to be resumed.</summary>
    public string Fingerprint => $"vision clip={Path.GetFullPath(ClipFolder)} hidden={Hidden} layers={Layers} tower-lr={TowerLearningRateScale} features={FeatureStrategy} steps={Steps} batch={BatchSize} lr={LearningRate} warmup={WarmupSteps} wd={WeightDecay} clip={GradientClip} seed={Seed}";
}
