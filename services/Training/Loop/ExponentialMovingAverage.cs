using static TorchSharp.torch;

namespace MultiModal.Training.Loop;

/// <summary>
/// An exponential moving average of a model's trainable weights, kept in <see cref="Shadow"/> (a module of the same
/// configuration), as diffusers' <c>EMAModel</c> (training/training_utils.py, v0.25.1) with its defaults: after the
/// k-th optimizer step, shadow ← d·shadow + (1 − d)·weights with d = min(<c>decay</c>, (1 + s) / (10 + s)), s = k − 1
/// (d = 0 at the first step: the shadow starts as the weights). The averaged weights are what a diffusion model is
/// sampled from; the raw ones keep training. Tensors without gradients (frozen or buffers) are copied, not averaged.
/// </summary>
public sealed class ExponentialMovingAverage(nn.Module model, nn.Module shadow, double decay)
{
    /// <summary>The averaged weights (a module the caller made with the model's configuration).</summary>
    public nn.Module Shadow => shadow;

    /// <summary>The decay applied after the <paramref name="stepsDone"/>-th optimizer step (1-based).</summary>
    public double DecayAfter(int stepsDone)
    {
        var s = stepsDone - 1;
        return s <= 0 ? 0 : Math.Min(decay, (1.0 + s) / (10.0 + s));
    }

    /// <summary>Folds the model's current weights in, after its <paramref name="stepsDone"/>-th optimizer step.</summary>
    public void Update(int stepsDone)
    {
        var d = DecayAfter(stepsDone);
        var averaged = shadow.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var _ = no_grad();
        foreach (var (name, weight) in model.named_parameters())
        {
            var target = averaged[name];
            if (weight.requires_grad)
                target.lerp_(weight, 1 - d);
            else
                target.copy_(weight);
        }
    }

    /// <summary>The shadow set to the model's weights (a run's start, before its first step).</summary>
    public void Reset()
    {
        var weights = model.state_dict();
        using var _ = no_grad();
        foreach (var (name, value) in shadow.state_dict())
            value.copy_(weights[name]);
    }
}
