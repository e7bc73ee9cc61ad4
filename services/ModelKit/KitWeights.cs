using MultiModal.Models.Layers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiModal.ModelKit;

/// <summary>
/// Draws every parameter of a freshly built model from a private generator seeded with the kit's seed, in state-dict
/// order, so the same seed writes the same bytes whatever else the process does with torch's global generator (other
/// threads building models, other tests). Module constructors draw from the global one; those values are overwritten.
/// Distributions follow PyTorch's defaults, except norms: like the golden fixtures, their affines are drawn around 1 and 0
/// (std 0.02) so a missed norm weight or bias shows up in a comparison.
/// Draws go through <c>Tensor.uniform_/normal_</c>: TorchSharp 0.107's <c>nn.init.uniform_/normal_</c> accept a generator
/// but draw from the global one (KitWeightsTests catches that).
/// </summary>
public static class KitWeights
{
    public static void Randomize(nn.Module model, long seed)
    {
        using var generator = new Generator(unchecked((ulong)seed), CPU);
        using var _ = no_grad();
        var modules = model.named_modules().Where(m => m.name.Length > 0).ToDictionary(m => m.name, m => m.module);
        modules[""] = model;
        foreach (var (path, parameter) in model.named_parameters())
        {
            var dot = path.LastIndexOf('.');
            Draw(modules[dot < 0 ? "" : path[..dot]], path[(dot + 1)..], parameter, generator);
        }
    }

    private static void Draw(nn.Module module, string name, Parameter parameter, Generator generator)
    {
        switch (module)
        {
            case Linear or GemvLinear or PackedLinear or Conv1d or Conv2d or PortableConv2d:
                // kaiming_uniform_(a=√5) on the weight and the default bias init both come to U(±1/√fan_in)
                var fanIn = module.named_parameters(recurse: false).First(p => p.name == "weight").parameter.shape.Skip(1)
                    .Aggregate(1L, (a, b) => a * b);
                var bound = 1.0 / Math.Sqrt(fanIn);
                parameter.uniform_(-bound, bound, generator);
                break;
            case Embedding:
                parameter.normal_(0, 1, generator);
                break;
            case LayerNorm or GroupNorm:
            case var _ when module.GetType().Name.EndsWith("Norm", StringComparison.Ordinal):   // LlamaRMSNorm
                parameter.normal_(name == "weight" ? 1.0 : 0.0, 0.02, generator);
                break;
            case var _ when name == "logit_scale":
                break;   // a configured constant (log(1/0.07)), not a random draw
            default:
                parameter.normal_(0, 1, generator);   // free parameters such as CLIP's class_embedding (randn)
                break;
        }
    }
}
