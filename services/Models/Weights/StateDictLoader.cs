using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Weights;

/// <summary>Copies checkpoint tensors into a module's parameters and buffers, strictly.</summary>
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

        using var _ = no_grad();
        foreach (var (checkpointKey, moduleKey) in wanted)
        {
            using var scope = NewDisposeScope();
            targets[moduleKey].copy_(checkpoint.Load(checkpointKey));
        }
    }

    private static string Describe(string what, List<string> keys) => keys.Count == 0 ? ""
        : $"{keys.Count} {what} ({string.Join("; ", keys.Take(5))}{(keys.Count > 5 ? "; ..." : "")}). ";
}
