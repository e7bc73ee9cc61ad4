using MultiModal.Models.Clip;
using MultiModal.Training.Loop;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

/// <summary>The weights' moving average (diffusers' EMAModel schedule) and its place in a resumable run.</summary>
public sealed class ExponentialMovingAverageTests
{
    // decay 0.2: d = 0 after step 1 (the shadow starts as the weights), 2/11 after step 2 ((1 + 1) / (10 + 1), below the
    // cap), then 3/12 = 0.25 capped to 0.2. Weights 1, 4, −2 → 1; 2/11·1 + 9/11·4 = 38/11; 0.2·38/11 + 0.8·(−2) = −10/11.
    [Fact]
    public void Update_StartsAtTheWeightsThenDecaysOnDiffusersSchedule_FrozenTensorsCopied()
    {
        using var model = nn.Linear(2, 1);
        using var shadow = nn.Linear(2, 1);
        model.bias!.requires_grad = false;
        var average = new ExponentialMovingAverage(model, shadow, decay: 0.2);
        double[] weights = [1, 4, -2];
        double[] expected = [1, 38.0 / 11, -10.0 / 11];

        for (var k = 1; k <= 3; k++)
        {
            using (no_grad())
            {
                model.weight!.fill_(weights[k - 1]);
                model.bias.fill_(10 * k);
            }
            average.Update(k);

            Assert.Equal(expected[k - 1], shadow.weight!.data<float>()[1], 5);
            Assert.Equal(10f * k, shadow.bias!.data<float>()[0]);
        }
        Assert.Equal([0, 2.0 / 11, 0.2], new[] { average.DecayAfter(1), average.DecayAfter(2), average.DecayAfter(3) });
    }

    // The average is checkpointed with the weights: a run that crashed and resumed ends with the same average as one
    // that never stopped (the resumed shadow starts from other random weights, so all of it must come from the checkpoint).
    [Fact]
    public void TrainingLoop_ResumedAfterACrash_EndsWithTheSameAverage()
    {
        const int steps = 6;
        var uninterrupted = Directory.CreateTempSubdirectory("ema-a-").FullName;
        var crashed = Directory.CreateTempSubdirectory("ema-b-").FullName;
        try
        {
            using var a = new TinyClip(seed: 17);
            using var aShadow = new ClipModel(TinyClip.Config);
            new TrainingLoop(a.Model, Options(uninterrupted, steps, resume: false), "a", "tiny",
                average: new ExponentialMovingAverage(a.Model, aShadow, 0.9)).Run(a.LossAt);

            using var b = new TinyClip(seed: 17);
            using var bShadow = new ClipModel(TinyClip.Config);
            Assert.Throws<IOException>(() => new TrainingLoop(b.Model, Options(crashed, steps, resume: false), "b", "tiny",
                average: new ExponentialMovingAverage(b.Model, bShadow, 0.9)).Run(step =>
                {
                    if (step == 4)
                        throw new IOException("simulated crash at step 4");
                    return b.LossAt(step);
                }));
            using var c = new TinyClip(seed: 99);
            using var cShadow = new ClipModel(TinyClip.Config);
            new TrainingLoop(c.Model, Options(crashed, steps, resume: true), "c", "tiny",
                average: new ExponentialMovingAverage(c.Model, cShadow, 0.9)).Run(c.LossAt);

            var expected = aShadow.state_dict();
            Assert.All(cShadow.state_dict(), kv => Assert.True(kv.Value.eq(expected[kv.Key]).all().item<bool>(), $"{kv.Key}: average differs after resuming"));
            var last = a.Model.state_dict();
            Assert.Contains(aShadow.state_dict(), kv => !kv.Value.eq(last[kv.Key]).all().item<bool>());   // an average, not the last weights
        }
        finally
        {
            Directory.Delete(uninterrupted, recursive: true);
            Directory.Delete(crashed, recursive: true);
        }
    }

    // A checkpoint written without an average cannot resume a run that keeps one: it would restart the average silently.
    [Fact]
    public void TrainingLoop_ResumeWithAnAverage_FromACheckpointWithout_IsRefused()
    {
        var work = Directory.CreateTempSubdirectory("ema-c-").FullName;
        try
        {
            using var clip = new TinyClip(seed: 18);
            new TrainingLoop(clip.Model, Options(work, steps: 3, resume: false), "plain", "tiny").Run(clip.LossAt);
            using var shadow = new ClipModel(TinyClip.Config);

            var error = Assert.Throws<InvalidOperationException>(() => new TrainingLoop(clip.Model, Options(work, steps: 6, resume: true), "averaged", "tiny",
                average: new ExponentialMovingAverage(clip.Model, shadow, 0.9)).Run(clip.LossAt));
            Assert.Contains("moving average", error.Message);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static LoopOptions Options(string work, int steps, bool resume) =>
        new(steps, LearningRate: 3e-3, WarmupSteps: 3, WeightDecay: 0.1, GradientClip: 1.0, CheckpointEvery: 3, work, resume);
}
