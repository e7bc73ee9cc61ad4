using System.Text.Json;
using static TorchSharp.torch;

namespace MultiModal.Models.Weights;

/// <summary>
/// The weights of one model folder: a single <c>{name}.safetensors</c>, a variant such as
/// <c>{name}.fp16.safetensors</c>, or shards listed by <c>{name}.safetensors.index.json</c> (its <c>weight_map</c>).
/// Tensors are memory-mapped by <see cref="SafeTensorsFile"/>; nothing is read until a tensor is loaded.
/// </summary>
public sealed class SafeTensorsCheckpoint
{
    private readonly Dictionary<string, SafeTensorsFile> _fileOf;

    public string Folder { get; }

    /// <summary>Every tensor name with its dtype and shape, from the headers alone.</summary>
    public IReadOnlyDictionary<string, SafeTensorEntry> Entries { get; }

    private SafeTensorsCheckpoint(string folder, Dictionary<string, SafeTensorsFile> fileOf)
    {
        Folder = folder;
        _fileOf = fileOf;
        Entries = fileOf.ToDictionary(kv => kv.Key, kv => kv.Value.Entries[kv.Key], StringComparer.Ordinal);
    }

    /// <summary>
    /// Opens the weights in <paramref name="folder"/>. <paramref name="baseName"/> is <c>model</c> (transformers) or
    /// <c>diffusion_pytorch_model</c> (diffusers); <paramref name="variant"/> (e.g. <c>fp16</c>) is preferred when present.
    /// </summary>
    public static SafeTensorsCheckpoint Open(string folder, string baseName = "model", string? variant = null)
    {
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Model folder '{folder}' does not exist.");
        var stems = variant is null ? new[] { baseName } : new[] { $"{baseName}.{variant}", baseName };
        foreach (var stem in stems)
        {
            var single = Path.Combine(folder, stem + ".safetensors");
            if (File.Exists(single))
            {
                var file = SafeTensorsFile.Open(single);
                return new SafeTensorsCheckpoint(folder, file.Entries.Keys.ToDictionary(k => k, _ => file, StringComparer.Ordinal));
            }
            var index = Path.Combine(folder, stem + ".safetensors.index.json");
            if (File.Exists(index))
                return OpenSharded(folder, index);
        }
        throw new FileNotFoundException(
            $"No weights in '{folder}': expected {string.Join(" or ", stems.Select(s => s + ".safetensors[.index.json]"))}. " +
            "Only safetensors checkpoints are loaded (never pickled .bin files).");
    }

    private static SafeTensorsCheckpoint OpenSharded(string folder, string indexPath)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(indexPath));
        if (!json.RootElement.TryGetProperty("weight_map", out var weightMap))
            throw new InvalidDataException($"'{indexPath}' has no weight_map.");
        var shards = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        var fileOf = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        foreach (var entry in weightMap.EnumerateObject())
        {
            var shardName = entry.Value.GetString()!;
            if (shardName.Contains('/') || shardName.Contains('\\'))
                throw new InvalidDataException($"'{indexPath}' names shard '{shardName}' outside the folder.");
            if (!shards.TryGetValue(shardName, out var shard))
            {
                var shardPath = Path.Combine(folder, shardName);
                if (!File.Exists(shardPath))
                    throw new FileNotFoundException($"Shard '{shardName}' listed in '{indexPath}' is missing.", shardPath);
                shards[shardName] = shard = SafeTensorsFile.Open(shardPath);
            }
            if (!shard.Entries.ContainsKey(entry.Name))
                throw new InvalidDataException($"'{indexPath}' maps '{entry.Name}' to '{shardName}', which does not contain it.");
            fileOf[entry.Name] = shard;
        }
        return new SafeTensorsCheckpoint(folder, fileOf);
    }

    /// <summary>The stored tensor, sharing memory with the mapped file (see <see cref="SafeTensorsFile.Load"/>).</summary>
    public Tensor Load(string name) =>
        _fileOf.TryGetValue(name, out var file) ? file.Load(name)
            : throw new KeyNotFoundException($"Tensor '{name}' is not in the checkpoint in '{Folder}'.");
}
