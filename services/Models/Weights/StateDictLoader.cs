using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MultiModal.Models.Weights;

/// <summary>Loads checkpoint tensors into a module's parameters and buffers, strictly: by copy, or by materializing a meta-device module.</summary>
public static class StateDictLoader
{
    /// <summary>
    /// Loads every parameter and persistent buffer of <paramref name="module"/> from <paramref name="checkpoint"/>,
    /// converting dtype on the way (e.g. F16 weights into a float32 module). Fails, naming the tensors, when the
    /// checkpoint lacks a key, has a key the module does not (unless <paramref name="ignore"/> says it may), or a
    /// shape differs. <paramref name="remap"/> maps a module key to the checkpoint key (legacy layouts live in one
    /// place per model; identity when null).
    /// </summary>
    public static void LoadStrict(string modelName, nn.Module module, SafeTensorsCheckpoint checkpoint,
        Func<string, string>? remap = null, Func<string, bool>? ignore = null)
    {
        var targets = module.state_dict();
        var wanted = Match(modelName, targets, checkpoint, remap, ignore);

        using var _ = no_grad();
        foreach (var (checkpointKey, moduleKey) in wanted)
        {
            using var scope = NewDisposeScope();
            targets[moduleKey].copy_(checkpoint.Load(checkpointKey));
        }
    }

    /// <summary>
    /// Gives a module built on the <c>meta</c> device (names and shapes only) its weights: every parameter becomes the
    /// checkpoint's tensor converted to <paramref name="dtype"/> on <paramref name="device"/>. Nothing is initialised at
    /// random first and nothing exists twice, which is what makes loading fast (PyTorch's <c>skip_init</c> /
    /// transformers' <c>low_cpu_mem_usage</c>). Same strict checks, <paramref name="remap"/> and <paramref name="ignore"/>
    /// as <see cref="LoadStrict"/>; the module must have no buffers (ours have none) and may not be used until this returns.
    /// </summary>
    public static void Materialize(string modelName, nn.Module module, SafeTensorsCheckpoint checkpoint, Device device,
        ScalarType dtype, Func<string, string>? remap = null, Func<string, bool>? ignore = null)
    {
        if (module.named_buffers().Any())
            throw new NotSupportedException($"{modelName} has buffers; only parameters can be materialized from a checkpoint.");
        var wanted = Match(modelName, module.state_dict(), checkpoint, remap, ignore).ToDictionary(kv => kv.Value, kv => kv.Key);

        var owners = module.named_modules().ToDictionary(m => m.name, m => m.module);
        owners[""] = module;
        using var _ = no_grad();
        foreach (var (path, placeholder) in module.named_parameters().ToList())
        {
            var dot = path.LastIndexOf('.');
            var owner = owners[dot < 0 ? "" : path[..dot]];
            Tensor weight;
            using (var scope = NewDisposeScope())
            {
                var stored = checkpoint.Load(wanted[path]);
                // An own copy even when dtype and device already match: never the memory-mapped file itself.
                weight = (stored.is_floating_point() ? stored.to(dtype, device, copy: true) : stored.to(device, copy: true))
                    .MoveToOuterDisposeScope();
            }
            ModuleParameters.Replace(owner, path[(dot + 1)..], new Parameter(weight, requires_grad: false));
            placeholder.Dispose();
        }
    }

    // Module key → checkpoint key for every parameter and persistent buffer; throws naming what does not match.
    private static Dictionary<string, string> Match(string modelName, Dictionary<string, Tensor> targets,
        SafeTensorsCheckpoint checkpoint, Func<string, string>? remap, Func<string, bool>? ignore)
    {
        var wanted = targets.Keys.ToDictionary(k => remap?.Invoke(k) ?? k, k => k, StringComparer.Ordinal);

        var missing = wanted.Keys.Where(k => !checkpoint.Entries.ContainsKey(k)).ToList();
        var unexpected = checkpoint.Entries.Keys.Where(k => !wanted.ContainsKey(k) && !(ignore?.Invoke(k) ?? false)).ToList();
        var misShaped = wanted
            .Where(kv => checkpoint.Entries.ContainsKey(kv.Key)
                         && !checkpoint.Entries[kv.Key].Shape.SequenceEqual(targets[kv.Value].shape))
            .Select(kv => $"{kv.Key} (checkpoint [{string.Join(", ", checkpoint.Entries[kv.Key].Shape)}], " +
                          $"model [{string.Join(", ", targets[kv.Value].shape)}])")
            .ToList();
        if (missing.Count > 0 || unexpected.Count > 0 || misShaped.Count > 0)
            throw new InvalidDataException(
                $"Checkpoint in '{checkpoint.Folder}' does not match {modelName}: " +
                Describe("missing", missing) + Describe("unexpected", unexpected) + Describe("mis-shaped", misShaped) +
                "Check that config.json belongs to these weights.");
        return wanted;
    }

    private static string Describe(string what, List<string> keys) => keys.Count == 0 ? ""
        : $"{keys.Count} {what} ({string.Join("; ", keys.Take(5))}{(keys.Count > 5 ? "; ..." : "")}). ";
}
