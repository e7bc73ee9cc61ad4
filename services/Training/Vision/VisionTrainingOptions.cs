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
    /// <summary>Keep the CLIP tower as trained (only projector and decoder learn); by default the tower is fine-tuned too.</summary>
    public bool FreezeVision { get; init; }
    public bool Resume { get; init; }
    /// <summary>Held-out evaluation: scenes 0 … EvalCount − 1 of the set with EvalSeed (training uses Seed).</summary>
    public int EvalCount { get; init; } = 300;
    public int EvalSeed { get; init; } = SceneSampler.HeldOutSeed;

    /// <summary>What must match for a checkpoint to be resumed.</summary>
    public string Fingerprint => $"vision clip={Path.GetFullPath(ClipFolder)} hidden={Hidden} layers={Layers} freeze={FreezeVision} steps={Steps} batch={BatchSize} lr={LearningRate} warmup={WarmupSteps} wd={WeightDecay} clip={GradientClip} seed={Seed}";
}
