using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiModal.Training.Loop;

/// <summary>Hyper-parameters every model's training shares.</summary>
public sealed record LoopOptions(
    int Steps,
    double LearningRate,
    int WarmupSteps,
    double WeightDecay,
    double GradientClip,
    int CheckpointEvery,
    string WorkDirectory,
    bool Resume);

/// <summary>
/// The loop every trainer runs: AdamW (<see cref="DecoupledAdamW"/>; decay on matrices only, not on biases, norms, embeddings or scalars), cosine
/// schedule with warmup, gradient clipping by global norm, a checkpoint every <see cref="LoopOptions.CheckpointEvery"/>
/// steps (resumable), a progress bar and the loss curve saved as <c>loss.png</c> in the work directory.
/// <paramref name="learningRateScale"/> (by parameter name; default 1 for all) gives parts their own multiple of the
/// schedule's rate, e.g. a pretrained tower fine-tuned gently under layers trained from scratch. With an
/// <paramref name="average"/>, the weights' moving average is updated after every optimizer step and checkpointed with them.
/// </summary>
public sealed class TrainingLoop(nn.Module model, LoopOptions options, string label, string fingerprint, Func<string, double>? learningRateScale = null,
    ExponentialMovingAverage? average = null)
{
    public IReadOnlyList<double> Losses => _losses;
    private List<double> _losses = [];

    /// <summary>
    /// Runs steps until <see cref="LoopOptions.Steps"/>; <paramref name="lossAt"/> builds step <c>i</c>'s batch and
    /// returns its scalar loss (with its graph); <paramref name="afterStep"/> runs after each optimizer step (e.g. clamps);
    /// <paramref name="afterCheckpoint"/> after each checkpoint is saved, with the number of steps done (e.g. snapshots).
    /// </summary>
    public void Run(Func<int, Tensor> lossAt, Action? afterStep = null, Action<int>? afterCheckpoint = null)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        var checkpointFolder = Path.Combine(options.WorkDirectory, "checkpoint");
        var parameters = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        static bool Decays(string name, Parameter p) => p.dim() >= 2 && !name.Contains("embedding", StringComparison.Ordinal);
        double Scale(string name) => learningRateScale?.Invoke(name) ?? 1;
        var groups = parameters
            .GroupBy(p => (Decays: Decays(p.name, p.parameter), Scale: Scale(p.name)))
            .Select(g => new DecoupledAdamW.Group(g.ToList(), g.Key.Decays ? options.WeightDecay : 0, g.Key.Scale))
            .ToList();
        using var optimizer = new DecoupledAdamW(groups, beta1: 0.9, beta2: 0.98, eps: 1e-6);
        var schedule = new CosineSchedule(options.LearningRate, options.WarmupSteps, options.Steps, options.LearningRate / 20);

        var (first, before) = (0, TimeSpan.Zero);
        if (options.Resume && TrainingCheckpoint.TryLoad(checkpointFolder, model, optimizer, fingerprint, average?.Shadow) is { } state)
        {
            (first, _losses, before) = (state.NextStep, state.Losses, TimeSpan.FromSeconds(state.Seconds));
            Console.Error.WriteLine($"{label}: resumed from {checkpointFolder} at step {first}");
        }
        else
            average?.Reset();

        model.train();
        var progress = new ProgressBar(label, options.Steps, first);
        var trainable = parameters.Select(p => p.parameter).ToList();
        for (var step = first; step < options.Steps; step++)
        {
            var lr = schedule.At(step);
            using (var scope = NewDisposeScope())
            {
                optimizer.ZeroGrad();
                var loss = lossAt(step);
                loss.backward();
                nn.utils.clip_grad_norm_(trainable, options.GradientClip);
                optimizer.Step(lr);
                _losses.Add(loss.item<float>());
            }
            average?.Update(step + 1);
            afterStep?.Invoke();
            progress.Report(step, _losses[^1], lr);
            var last = step + 1 == options.Steps;
            if ((step + 1) % options.CheckpointEvery == 0 || last)
            {
                TrainingCheckpoint.Save(checkpointFolder, model, optimizer,
                    new TrainingCheckpoint.State(step + 1, _losses, fingerprint, (before + progress.Elapsed).TotalSeconds), average?.Shadow);
                LossCurvePlot.Save(Path.Combine(options.WorkDirectory, "loss.png"), $"{label}: loss per step", _losses);
                afterCheckpoint?.Invoke(step + 1);
            }
        }
        model.eval();
        Elapsed = before + progress.Elapsed;
    }

    /// <summary>Wall time of all the run's steps, those of earlier processes included (a resumed run).</summary>
    public TimeSpan Elapsed { get; private set; }
}
