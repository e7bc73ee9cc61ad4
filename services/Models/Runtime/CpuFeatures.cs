using System.Runtime.Intrinsics.X86;

namespace MultiModal.Models.Runtime;

/// <summary>
/// What the CPU offers for reduced precision, from the kernel's feature flags (<c>/proc/cpuinfo</c>: the same CPUID bits
/// libtorch's oneDNN checks). <c>avx512_bf16</c> (AMD Zen 4/5, Intel Cooper Lake on) gives the bf16 dot-product
/// instructions oneDNN's bf16 GEMMs use; <c>amx_bf16</c> (Intel Sapphire Rapids on) the bf16 tile unit. Without either,
/// oneDNN emulates bf16 with float32 conversions and bf16 is no faster than float32. False where the flags cannot be
/// read (not Linux).
/// </summary>
public static class CpuFeatures
{
    private static readonly Lazy<(string Model, HashSet<string> Flags)> Info = new(Read);

    public static bool HasAvx512Bf16 => Info.Value.Flags.Contains("avx512_bf16");

    public static bool HasAmxBf16 => Info.Value.Flags.Contains("amx_bf16");

    /// <summary>Whether bf16 matrix products run natively (avx512_bf16 or AMX), so bf16 can be faster than float32.</summary>
    public static bool HasNativeBf16 => HasAvx512Bf16 || HasAmxBf16;

    /// <summary>Whether CPUID's vendor string is "GenuineIntel".</summary>
    public static bool IsGenuineIntel => X86Base.IsSupported && VendorIsIntel();

    /// <summary>The CPU's model name ("model name" in /proc/cpuinfo), or "unknown".</summary>
    public static string ModelName => Info.Value.Model;

    private static bool VendorIsIntel()
    {
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        return ebx == 0x756E6547 && edx == 0x49656E69 && ecx == 0x6C65746E;   // "Genu" "ineI" "ntel"
    }

    private static (string, HashSet<string>) Read()
    {
        string model = "unknown";
        var flags = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                var colon = line.IndexOf(':');
                if (colon < 0) continue;
                var key = line[..colon].Trim();
                if (key == "model name" && model == "unknown")
                    model = line[(colon + 1)..].Trim();
                else if (key == "flags" && flags.Count == 0)
                    flags.UnionWith(line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return (model, flags);
    }
}
