using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>Run-time choice of device and dtype (never stored in model configs).</summary>
public static class TorchRuntime
{
    /// <summary>
    /// "auto" (CUDA when the CUDA build of libtorch is loaded and a GPU is present, else CPU), "cpu", "cuda" or "cuda:N".
    /// </summary>
    public static Device ResolveDevice(string? requested)
    {
        var value = string.IsNullOrWhiteSpace(requested) ? "auto" : requested.Trim().ToLowerInvariant();
        if (value == "auto")
            return cuda.is_available() ? CUDA : CPU;
        if (value.StartsWith("cuda", StringComparison.Ordinal) && !cuda.is_available())
            throw new InvalidOperationException(
                $"Device '{requested}' was requested but CUDA is not available (CPU build of libtorch, or no GPU). " +
                "Build with -p:TorchBackend=cuda on a machine with the CUDA packages, or use Device=auto|cpu.");
        return value is "cpu" or "cuda" || value.StartsWith("cuda:", StringComparison.Ordinal)
            ? new Device(value)
            : throw new ArgumentException($"Unknown device '{requested}'; expected auto, cpu, cuda or cuda:N.");
    }

    /// <summary>
    /// "auto" (float32 on CPU: these CPUs have no fast fp16/bf16; float16 on GPUs), "float32", "float16" or "bfloat16".
    /// </summary>
    public static ScalarType ResolveDType(string? requested, Device device)
    {
        var value = string.IsNullOrWhiteSpace(requested) ? "auto" : requested.Trim().ToLowerInvariant();
        return value switch
        {
            "auto" => device.type == DeviceType.CUDA ? ScalarType.Float16 : ScalarType.Float32,
            "float32" or "fp32" => ScalarType.Float32,
            "float16" or "fp16" => ScalarType.Float16,
            "bfloat16" or "bf16" => ScalarType.BFloat16,
            _ => throw new ArgumentException($"Unknown dtype '{requested}'; expected auto, float32, float16 or bfloat16."),
        };
    }

    public static string Name(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => dtype.ToString().ToLowerInvariant(),
    };
}
