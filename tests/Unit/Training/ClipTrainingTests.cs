using System.Text.Json;
using MultiModal.Training.Loop;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

/// <summary>The serving ClipModel trains: every parameter gets a gradient, the loss falls, a resumed run is the same run.</summary>
public sealed class ClipTrainingTests
{
    [Fact]
    public void ContrastiveLoss_Backward_EveryParameterGetsAFiniteNonZeroGradient()
    {
        using var clip = new TinyClip(seed: 11);
        clip.Model.train();

        using var loss = clip.LossAt(0);
        loss.backward();

        var parameters = clip.Model.named_parameters().ToList();
        Assert.NotEmpty(parameters);
        Assert.All(parameters, p =>
        {
            Assert.True(p.parameter.requires_grad, $"{p.name} is not trainable");
            var grad = p.parameter.grad;
            Assert.True(grad is not null, $"{p.name} got no gradient");
            Assert.True(grad.isfinite().all().item<bool>(), $"{p.name}: non-finite gradient");
            Assert.True(grad.abs().sum().item<float>() > 0, $"{p.name}: zero gradient");
        });
    }

    [Fact]
    public void TrainingLoop_FortySteps_LossFalls()
    {
        using var clip = new TinyClip(seed: 12);
        var work = Directory.CreateTempSubdirectory("clip-loop-").FullName;
        try
        {
            var loop = new TrainingLoop(clip.Model, Options(work, steps: 40, resume: false), "tiny-clip", "tiny");
            loop.Run(clip.LossAt);

            var first = loop.Losses.Take(5).Average();
            var last = loop.Losses.TakeLast(5).Average();
            Assert.True(last < first - 0.2, $"loss {first:F3} (first 5 steps) -> {last:F3} (last 5)");
            Assert.True(File.Exists(Path.Combine(work, "loss.png")));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void TrainingLoop_ResumedAfterACrash_EndsWithTheSameWeightsAsAnUninterruptedRun()
    {
        const int steps = 6;
        var uninterrupted = Directory.CreateTempSubdirectory("clip-a-").FullName;
        var crashed = Directory.CreateTempSubdirectory("clip-b-").FullName;
        try
        {
            using var a = new TinyClip(seed: 13);
            new TrainingLoop(a.Model, Options(uninterrupted, steps, resume: false), "a", "tiny").Run(a.LossAt);

            using var b = new TinyClip(seed: 13);
            Assert.Throws<IOException>(() => new TrainingLoop(b.Model, Options(crashed, steps, resume: false), "b", "tiny")
                .Run(step =>
                {
                    if (step == 4)
                        throw new IOException("simulated crash at step 4");
                    return b.LossAt(step);
                }));
            var saved = JsonSerializer.Deserialize<TrainingCheckpoint.State>(File.ReadAllText(Path.Combine(crashed, "checkpoint", "state.json")))!;
            using var c = new TinyClip(seed: 99);   // other initial weights: all must come from the checkpoint
            var resumed = new TrainingLoop(c.Model, Options(crashed, steps, resume: true), "c", "tiny");
            resumed.Run(c.LossAt);

            Assert.Equal(steps, resumed.Losses.Count);
            Assert.True(saved.NextStep is > 0 and < steps && saved.Seconds > 0, $"checkpoint at step {saved.NextStep} after {saved.Seconds} s");
            Assert.True(resumed.Elapsed.TotalSeconds > saved.Seconds, "the resumed run's time leaves out the steps before the crash");
            var expected = a.Model.state_dict();
            Assert.All(c.Model.state_dict(), kv => Assert.True(kv.Value.eq(expected[kv.Key]).all().item<bool>(), $"{kv.Key} differs after resuming"));
        }
        finally
        {
            Directory.Delete(uninterrupted, recursive: true);
            Directory.Delete(crashed, recursive: true);
        }
    }

    [Fact]
    public void TrainingLoop_CheckpointOfAnotherConfiguration_IsRefused()
    {
        var work = Directory.CreateTempSubdirectory("clip-fp-").FullName;
        try
        {
            using var clip = new TinyClip(seed: 14);
            new TrainingLoop(clip.Model, Options(work, steps: 2, resume: false), "a", "config A").Run(clip.LossAt);

            var error = Assert.Throws<InvalidOperationException>(() =>
                new TrainingLoop(clip.Model, Options(work, steps: 2, resume: true), "b", "config B").Run(clip.LossAt));
            Assert.Contains("config A", error.Message);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static LoopOptions Options(string work, int steps, bool resume) =>
        new(steps, LearningRate: 3e-3, WarmupSteps: 3, WeightDecay: 0.1, GradientClip: 1.0, CheckpointEvery: 3, work, resume);
}
