using System.Text.Json;
using static TorchSharp.torch;

namespace MultiModal.Training.Loop;

/// <summary>
/// What a run needs to resume: the module's weights (TorchSharp's format), the optimizer's moments and step counts, the
/// next step, the loss history and the time spent so far. Written to a temporary folder, then swapped in, so a kill mid-write keeps the last one.
/// Data and caption draws are functions of (seed, step), so nothing else is needed to continue the same run.
/// </summary>
public static class TrainingCheckpoint
{
    private const string ModelFile = "model.dat", AverageFile = "average.dat", OptimizerFile = "optimizer.safetensors", StateFile = "state.json";

    /// <summary><paramref name="Seconds"/>: wall time of the steps before <paramref name="NextStep"/>, over every process that ran them.</summary>
    public sealed record State(int NextStep, List<double> Losses, string Fingerprint, double Seconds = 0);

    /// <summary>Writes the checkpoint; <paramref name="average"/>: the weights' moving average, when the run keeps one.</summary>
    public static void Save(string folder, nn.Module model, DecoupledAdamW optimizer, State state, nn.Module? average = null)
    {
        var temporary = folder + ".tmp";
        if (Directory.Exists(temporary))
            Directory.Delete(temporary, recursive: true);
        Directory.CreateDirectory(temporary);
        model.save(Path.Combine(temporary, ModelFile));
        average?.save(Path.Combine(temporary, AverageFile));
        optimizer.Save(Path.Combine(temporary, OptimizerFile));
        File.WriteAllText(Path.Combine(temporary, StateFile), JsonSerializer.Serialize(state));
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        Directory.Move(temporary, folder);
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/> and <paramref name="optimizer"/>; null when there is none. A
    /// checkpoint of another configuration (fingerprint) is refused rather than half-loaded, as is one without the moving
    /// average the run keeps (<paramref name="average"/>).
    /// </summary>
    public static State? TryLoad(string folder, nn.Module model, DecoupledAdamW optimizer, string fingerprint, nn.Module? average = null)
    {
        var statePath = Path.Combine(folder, StateFile);
        if (!File.Exists(statePath))
            return null;
        var state = JsonSerializer.Deserialize<State>(File.ReadAllText(statePath))
            ?? throw new InvalidDataException($"{statePath} is empty");
        if (state.Fingerprint != fingerprint)
            throw new InvalidOperationException(
                $"checkpoint {folder} was written by another configuration ({state.Fingerprint}); this run is {fingerprint}. " +
                "Delete it or run with the same options.");
        var averagePath = Path.Combine(folder, AverageFile);
        if (average is not null && !File.Exists(averagePath))
            throw new InvalidOperationException($"checkpoint {folder} has no moving average ({AverageFile}) for this run to resume");
        model.load(Path.Combine(folder, ModelFile));
        average?.load(averagePath);
        optimizer.Load(Path.Combine(folder, OptimizerFile));
        return state;
    }
}
