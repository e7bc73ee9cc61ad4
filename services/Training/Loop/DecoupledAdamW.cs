using MultiModal.Models.Weights;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiModal.Training.Loop;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter 2019; torch.optim.AdamW's single-tensor update, amsgrad off) over named parameters,
/// with its moments saved as safetensors. Ours rather than TorchSharp 0.107's AdamW: that one builds each step's
/// scalars as temporaries, and a long run in Release crashed at random inside <c>addcmul_</c> with a garbage scalar
/// ("toFloat ... Expected false to be true", after ~500 steps): a finalizer racing the native call. Here every scalar
/// lives in a <c>using</c> local until the ops that read it have returned.
/// </summary>
public sealed class DecoupledAdamW : IDisposable
{
    /// <summary>Parameters updated alike: their decoupled weight decay, and their learning rate as a multiple of the schedule's.</summary>
    public sealed record Group(IReadOnlyList<(string Name, Parameter Parameter)> Parameters, double WeightDecay, double LearningRateScale = 1);

    private readonly IReadOnlyList<Group> _groups;
    private readonly Dictionary<string, (Tensor ExpAvg, Tensor ExpAvgSq)> _state = new(StringComparer.Ordinal);
    private readonly double _beta1, _beta2, _eps;

    public DecoupledAdamW(IReadOnlyList<Group> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        (_groups, _beta1, _beta2, _eps) = (groups, beta1, beta2, eps);
        foreach (var (name, p) in groups.SelectMany(g => g.Parameters))
            _state[name] = (zeros_like(p).DetachFromDisposeScope(), zeros_like(p).DetachFromDisposeScope());
    }

    /// <summary>Optimizer steps taken (bias corrections use it).</summary>
    public long Steps { get; private set; }

    public void ZeroGrad()
    {
        foreach (var (_, p) in _groups.SelectMany(g => g.Parameters))
            p.grad?.zero_();
    }

    /// <summary>One update at learning rate <paramref name="lr"/> (times each group's scale) of every parameter that has a gradient.</summary>
    public void Step(double lr)
    {
        Steps++;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var biasCorrection1 = 1 - Math.Pow(_beta1, Steps);
        var biasCorrection2 = 1 - Math.Pow(_beta2, Steps);
        using Scalar beta1 = _beta1, oneMinusBeta1 = 1 - _beta1, beta2 = _beta2, oneMinusBeta2 = 1 - _beta2;
        using Scalar eps = _eps, sqrtBc2 = Math.Sqrt(biasCorrection2);
        foreach (var group in _groups)
        {
            var groupLr = lr * group.LearningRateScale;
            using Scalar decay = 1 - groupLr * group.WeightDecay, stepSize = -groupLr / biasCorrection1;
            foreach (var (name, p) in group.Parameters)
            {
                var grad = p.grad;
                if (grad is null)
                    continue;
                var (m, v) = _state[name];
                p.mul_(decay);                                              // decoupled weight decay
                m.mul_(beta1).add_(grad, oneMinusBeta1);                    // m_t = β1 m + (1 − β1) g
                v.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);          // v_t = β2 v + (1 − β2) g²
                var denom = v.sqrt().div_(sqrtBc2).add_(eps);               // √(v_t / (1 − β2^t)) + ε
                p.addcdiv_(m, denom, stepSize);                             // θ −= lr / (1 − β1^t) · m_t / denom
            }
        }
    }

    public void Save(string path)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, (m, v)) in _state)
            (tensors[name + ".exp_avg"], tensors[name + ".exp_avg_sq"]) = (m, v);
        SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["steps"] = Steps.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    public void Load(string path)
    {
        var file = SafeTensorsFile.Open(path);
        using var _ = no_grad();
        foreach (var (name, (m, v)) in _state)
        {
            using var loadedM = file.Load(name + ".exp_avg");
            using var loadedV = file.Load(name + ".exp_avg_sq");
            m.copy_(loadedM);
            v.copy_(loadedV);
        }
        Steps = long.Parse(file.Metadata["steps"], System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        foreach (var (m, v) in _state.Values)
        {
            m.Dispose();
            v.Dispose();
        }
    }
}
