using System.Collections.Concurrent;
using MultiModal.Models.Pipelines;
using MultiModal.Tests.Testing;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Diffusion;

/// <summary>
/// The tiny SD pipelines of tests/Golden/Fixtures (copied from shared/golden/sd, made by diffusers 0.25.1):
/// <c>tiny-sd</c> (SD 1.x paths) and <c>tiny-sd2-v</c> (SD 2.x paths: linear projections, upcast attention, gelu text
/// encoder). Each is loaded once, float32 on the CPU, and shared by the tests of a class.
/// </summary>
public sealed class TinySdPipelines : IDisposable
{
    /// <summary>README "Suggested tolerances": components given golden inputs, atol = rtol = 1e-4 (float32 vs float64
    /// of the reference itself differs by ≤ 2.8e-6; the rest is room for another BLAS / libtorch).</summary>
    public const double Atol = 1e-4, Rtol = 1e-4;

    private readonly ConcurrentDictionary<string, Lazy<(StableDiffusionModels Models, GoldenTensors Golden)>> _loaded = new();

    public static string PipelineFolder(string name) => TestPaths.Fixture(name, "pipeline");

    public StableDiffusionModels Models(string name) => Get(name).Models;

    public GoldenTensors Golden(string name) => Get(name).Golden;

    private (StableDiffusionModels Models, GoldenTensors Golden) Get(string name) =>
        _loaded.GetOrAdd(name, n => new Lazy<(StableDiffusionModels, GoldenTensors)>(() =>
            (StableDiffusionFolder.Open(PipelineFolder(n)).LoadModels(CPU, ScalarType.Float32),
             new GoldenTensors(TestPaths.Fixture(n, "golden.safetensors"))))).Value;

    public void Dispose()
    {
        foreach (var entry in _loaded.Values.Where(l => l.IsValueCreated))
            entry.Value.Models.Dispose();
    }
}

internal static class DiffAssert
{
    /// <summary>Max |a − e| as a string for the test log (the reported per-tensor error).</summary>
    public static string MaxAbs(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        var diff = (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>();
        return diff.ToString("G3");
    }
}
