using Microsoft.ML.OnnxRuntime;

namespace MultiModal.Tests.Bench.Peers;

/// <summary>One ONNX Runtime session with the peer kit's settings (anchors/OrtBench/Program.cs): 2 intra-op threads,
/// 1 inter-op thread, ORT_ENABLE_ALL, CPU provider, default spinning. Inputs are bound once; <see cref="Run"/> is one call.</summary>
public sealed class OrtRunner : IDisposable
{
    private readonly SessionOptions options;
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly string[] inputNames;
    private readonly OrtValue[] inputs;
    private readonly string[] outputNames;

    public OrtRunner(string model, (string Name, OrtValue Value)[] inputs, string output)
    {
        if (!File.Exists(model))
            throw new FileNotFoundException($"{model} is missing: run `make peers-prep` (see tests/Bench/README.md)", model);
        options = KitOptions();
        session = new InferenceSession(model, options);
        inputNames = inputs.Select(i => i.Name).ToArray();
        this.inputs = inputs.Select(i => i.Value).ToArray();
        outputNames = [output];
    }

    public static string Version => OrtEnv.Instance().GetVersionString();

    public static SessionOptions KitOptions() => new()
    {
        IntraOpNumThreads = 2,
        InterOpNumThreads = 1,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    public void Run()
    {
        using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
    }

    /// <summary>One call, its output compared with a PyTorch reference output: max |ORT − PyTorch| and max |PyTorch|.</summary>
    public (double MaxAbsDiff, double MaxAbsRef) Check(float[] expected)
    {
        using var outputs = session.Run(runOptions, inputNames, inputs, outputNames);
        var got = outputs[0].GetTensorDataAsSpan<float>();
        if (got.Length != expected.Length)
            throw new InvalidDataException($"ORT output has {got.Length} values, the reference {expected.Length}");
        double diff = 0, max = 0;
        for (var i = 0; i < got.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(got[i] - expected[i]));
            max = Math.Max(max, Math.Abs(expected[i]));
        }
        return (diff, max);
    }

    public void Dispose()
    {
        session.Dispose();
        runOptions.Dispose();
        options.Dispose();
        foreach (var v in inputs) v.Dispose();
    }
}
