using System.Runtime.InteropServices;
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
        NativeSettings.Apply();
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
    /// "auto", "float32", "float16" or "bfloat16". "auto" is float16 on GPUs; on CPUs float32, or bfloat16 where the
    /// caller's model family measured fast and accurate enough in bf16 (<paramref name="bf16OnNativeCpus"/>), the CPU
    /// computes bf16 natively (avx512_bf16 or AMX) and a bf16 product measured faster than float32 on it
    /// (<see cref="Bf16SpeedProbe"/>): the flags alone were not enough, an Intel Xeon with avx512_bf16 ran CLIP slower in bf16.
    /// </summary>
    public static ScalarType ResolveDType(string? requested, Device device, bool bf16OnNativeCpus = false)
    {
        var value = string.IsNullOrWhiteSpace(requested) ? "auto" : requested.Trim().ToLowerInvariant();
        return value switch
        {
            "auto" when device.type == DeviceType.CUDA => ScalarType.Float16,
            "auto" => bf16OnNativeCpus && Bf16SpeedProbe.Bf16IsFaster ? ScalarType.BFloat16 : ScalarType.Float32,
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

    /// <summary>
    /// Applies the process-wide libtorch settings below once (also done by <see cref="ResolveDevice"/>); call it before
    /// the first tensor operation of a process that builds models without resolving a device (benchmarks, tools).
    /// </summary>
    public static void Initialize() => NativeSettings.Apply();

    /// <summary>What was done about oneMKL's CPU-vendor dispatch (see <see cref="MklVendorDispatch"/>).</summary>
    public static string MklDispatch => MklVendorDispatch.State;

    /// <summary>What was done about freed tensor memory and huge pages (see <see cref="HostMemoryReuse"/>).</summary>
    public static string HostMemory => HostMemoryReuse.State;

    /// <summary>
    /// The <c>GLIBC_TUNABLES</c> a model service is started with (one malloc arena, no mmap'd blocks; glibc reads it
    /// before any thread exists, which the runtime's own <c>mallopt</c> cannot do, see <see cref="HostMemoryReuse"/>).
    /// The Containerfiles, build/run-fleet.sh and the Makefile carry this value; a unit test holds them to it.
    /// </summary>
    public const string ServiceMallocTunables = "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0";

    /// <summary>What was done about idle OpenMP workers spinning (see <see cref="OpenMpSpinPolicy"/>).</summary>
    public static string OpenMpSpin => OpenMpSpinPolicy.State;

    /// <summary>The spin count libgomp finds in the native environment when it loads (null: its default).</summary>
    public static string? OpenMpSpinCount => NativeEnvironment.Get(OpenMpSpinPolicy.SpinCountVariable);

    /// <summary>Whether libtorch, reading its own environment, backs buffers of 2 MiB and more with huge pages.</summary>
    public static bool LibtorchHugePagesRequested =>
        NativeEnvironment.Get(HostMemoryReuse.TorchHugePagesVariable) == "1";

    /// <summary>Whether oneMKL's vendor check answers "Intel", i.e. its kernels are chosen by CPU features alone.</summary>
    public static bool MklUsesFeatureDispatch => MklVendorDispatch.IntelCpuTrue() == 1;

    /// <summary>Whether libtorch may pick NNPACK for a convolution (false once a device was resolved).</summary>
    public static bool NnpackEnabled => NativeSettings.UserEnabledNnpack(NativeSettings.GlobalContext());

    // Process-wide libtorch settings that TorchSharp 0.107 does not bind, set once before the first model is built.
    // NNPACK off: on x86 libtorch prefers oneDNN for every conv NNPACK could take, and on CPUs NNPACK does not know
    // (AMD Zen 5) each attempt logs "Could not initialize NNPACK! Reason: Unsupported hardware." to stderr.
    // oneMKL's vendor check answered by CPU features, so float32 GEMMs use AVX-512 on AMD CPUs that have it.
    // Freed activations kept for the next pass and large buffers on huge pages instead of page faults every pass.
    // OpenMP workers that sleep after a short spin, so threads outside libtorch get the cores between operators.
    // torch.backends.nnpack.set_flags(False) in Python; here at::globalContext().setUserEnabledNNPACK(false).
    private static class NativeSettings
    {
        private static readonly Lazy<bool> Applied = new(() =>
        {
            HostMemoryReuse.Apply();                // before libtorch's first allocation, which reads its THP variable
            OpenMpSpinPolicy.Apply();               // before libtorch loads libgomp, which reads its variables then
            InitializeDeviceType(DeviceType.CPU);   // loads libtorch_cpu, so the imports below resolve
            SetUserEnabledNnpack(GlobalContext(), false);
            MklVendorDispatch.Apply();
            return true;
        });

        public static void Apply() => _ = Applied.Value;

        [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
        public static extern IntPtr GlobalContext();

        [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
        private static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

        [DllImport("libtorch_cpu", EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
        [return: MarshalAs(UnmanagedType.U1)]
        public static extern bool UserEnabledNnpack(IntPtr context);
    }
}
