using MultiModal.Training.Loop;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Training;

public sealed class DecoupledAdamWTests
{
    [Fact]
    public void Step_FiveSteps_MatchesTorchSharpAdamW()
    {
        var ours = new Parameter(tensor(new float[] { 0.5f, -1.0f, 2.0f, 0.25f }));
        var theirs = new Parameter(ours.detach().clone());
        var target = tensor(new float[] { 1, 2, 3, 4 });
        using var optimizer = new DecoupledAdamW([new DecoupledAdamW.Group([("w", ours)], WeightDecay: 0.1)], beta1: 0.9, beta2: 0.98, eps: 1e-6);
        using var reference = optim.AdamW([theirs], lr: 0.05, beta1: 0.9, beta2: 0.98, eps: 1e-6, weight_decay: 0.1);

        for (var i = 0; i < 5; i++)
        {
            optimizer.ZeroGrad();
            (ours - target).pow(2).sum().backward();
            optimizer.Step(0.05);
            reference.zero_grad();
            (theirs - target).pow(2).sum().backward();
            reference.step();
        }

        Assert.Equal(5, optimizer.Steps);
        Assert.True(ours.allclose(theirs, rtol: 1e-5, atol: 1e-6), $"{string.Join(", ", ours.data<float>().ToArray())} vs {string.Join(", ", theirs.data<float>().ToArray())}");
    }

    [Fact]
    public void Step_GroupWithScale_MatchesTorchSharpAdamWAtTheScaledRate()
    {
        var scaled = new Parameter(tensor(new float[] { 0.5f, -1.0f, 2.0f }));
        var full = new Parameter(tensor(new float[] { 0.5f, -1.0f, 2.0f }));
        var reference = new Parameter(scaled.detach().clone());
        var target = tensor(new float[] { 1, 2, 3 });
        using var optimizer = new DecoupledAdamW(
            [new DecoupledAdamW.Group([("scaled", scaled)], WeightDecay: 0.1, LearningRateScale: 0.1), new DecoupledAdamW.Group([("full", full)], WeightDecay: 0.1)],
            beta1: 0.9, beta2: 0.98, eps: 1e-6);
        using var atTenth = optim.AdamW([reference], lr: 0.005, beta1: 0.9, beta2: 0.98, eps: 1e-6, weight_decay: 0.1);

        for (var i = 0; i < 5; i++)
        {
            optimizer.ZeroGrad();
            ((scaled - target).pow(2).sum() + (full - target).pow(2).sum()).backward();
            optimizer.Step(0.05);
            atTenth.zero_grad();
            (reference - target).pow(2).sum().backward();
            atTenth.step();
        }

        Assert.True(scaled.allclose(reference, rtol: 1e-5, atol: 1e-6), $"{string.Join(", ", scaled.data<float>().ToArray())} vs {string.Join(", ", reference.data<float>().ToArray())}");
        // The unscaled group moved further from the same start under the same gradients.
        Assert.True((full - tensor(new float[] { 0.5f, -1.0f, 2.0f })).abs().sum().item<float>() > 5 * (scaled - tensor(new float[] { 0.5f, -1.0f, 2.0f })).abs().sum().item<float>());
    }

    [Fact]
    public void SaveThenLoad_AnotherOptimizer_ContinuesIdentically()
    {
        var path = Path.Combine(Path.GetTempPath(), $"adamw-{Guid.NewGuid():N}.safetensors");
        try
        {
            var a = new Parameter(tensor(new float[] { 1, -2, 3 }));
            using var first = new DecoupledAdamW([new DecoupledAdamW.Group([("w", a)], WeightDecay: 0)]);
            a.sum().backward();
            first.Step(0.1);
            first.Save(path);

            var b = new Parameter(a.detach().clone());
            using var second = new DecoupledAdamW([new DecoupledAdamW.Group([("w", b)], WeightDecay: 0)]);
            second.Load(path);
            foreach (var (p, o) in new[] { (a, first), (b, second) })
            {
                o.ZeroGrad();
                (p * p).sum().backward();
                o.Step(0.1);
            }

            Assert.Equal(2, second.Steps);
            Assert.True(a.eq(b).all().item<bool>());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
