using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace MultiModal.Models.Runtime;

/// <summary>
/// Lets the oneMKL inside libtorch_cpu pick its GEMM kernels by the CPU's features instead of its vendor.
/// </summary>
/// <remarks>
/// libtorch runs float32 matmul/linear through oneMKL's sgemm. oneMKL 2024 asks <c>mkl_serv_intel_cpu_true()</c>
/// ("is the vendor string GenuineIntel?") and, on any other vendor, takes a generic AVX2 path: on an AMD Zen 5 with
/// AVX-512, 2048³ sgemm runs at ~140-175 GFLOP/s on 2 threads instead of ~340-370 GFLOP/s with the same library's
/// AVX-512 kernels (ONNX Runtime's MLAS: ~245). The function caches its answer in a static int that starts negative
/// ("not asked yet"); setting that cache to 1 before the first GEMM makes every later dispatch look at the CPUID
/// feature bits only (AVX2 on Zen 3, AVX-512 on Zen 4/5), exactly as on an Intel CPU with the same features.
/// The cache is found from the function's first instruction (<c>mov eax, [rip+disp32]</c>); when the bytes are not
/// the expected ones (another libtorch build) nothing is written and <see cref="State"/> says so.
/// Off with <c>MULTIMODAL_MKL_VENDOR_DISPATCH=keep</c>.
/// </remarks>
internal static class MklVendorDispatch
{
    public const string EnvironmentVariable = "MULTIMODAL_MKL_VENDOR_DISPATCH";

    public static string State { get; private set; } = "not applied";

    public static unsafe void Apply()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { } value &&
            value.Equals("keep", StringComparison.OrdinalIgnoreCase))
        {
            State = $"vendor check kept ({EnvironmentVariable}=keep)";
            return;
        }
        if (!X86Base.IsSupported || CpuFeatures.IsGenuineIntel)
        {
            State = "not needed (not an x86 CPU of another vendor)";
            return;
        }
        if (!NativeLibrary.TryLoad("libtorch_cpu", typeof(MklVendorDispatch).Assembly, null, out var library) ||
            !NativeLibrary.TryGetExport(library, "mkl_serv_intel_cpu_true", out var function))
        {
            State = "not applied: libtorch_cpu has no mkl_serv_intel_cpu_true (built without oneMKL?)";
            return;
        }
        var code = (byte*)function;
        // mov eax, [rip+disp32]; test eax, eax; js <ask cpuid>
        if (code[0] != 0x8B || code[1] != 0x05 || code[6] != 0x85 || code[7] != 0xC0 || code[8] != 0x78)
        {
            State = "not applied: unexpected code in mkl_serv_intel_cpu_true (another libtorch build)";
            return;
        }
        var cached = (int*)(code + 6 + *(int*)(code + 2));
        Volatile.Write(ref *cached, 1);
        State = "applied: oneMKL dispatches on CPU features (vendor check answered as Intel)";
    }

    /// <summary>What oneMKL's vendor check answers now (1 = Intel code paths).</summary>
    public static int IntelCpuTrue() =>
        NativeLibrary.TryLoad("libtorch_cpu", typeof(MklVendorDispatch).Assembly, null, out var library) &&
        NativeLibrary.TryGetExport(library, "mkl_serv_intel_cpu_true", out var function)
            ? Call(function)
            : -1;

    private static unsafe int Call(IntPtr function) => ((delegate* unmanaged<int>)function)();
}
