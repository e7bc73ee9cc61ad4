using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MultiModal.Models.Runtime;

/// <summary>Which instructions multiply a <see cref="PanelPackedMatrix"/>; both read the same 16-wide panels.</summary>
public enum PanelKernel
{
    /// <summary>AVX2 with FMA: 6 rows × 16 columns in 12 ymm accumulators, x read in place.</summary>
    Avx2,

    /// <summary>AVX-512: up to 12 rows × 16 columns in zmm accumulators, x first copied into row tiles.</summary>
    Avx512,
}

public static class PanelKernels
{
    /// <summary>Whether this CPU (and the JIT, which may decline 512-bit vectors on CPUs that slow down under them) runs <paramref name="kernel"/>.</summary>
    public static bool Runs(PanelKernel kernel) => kernel switch
    {
        PanelKernel.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        PanelKernel.Avx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        _ => false,
    };

    /// <summary>The widest kernel this CPU runs (AVX-512 where it runs, else AVX2); null where neither does.</summary>
    public static PanelKernel? Widest =>
        Runs(PanelKernel.Avx512) ? PanelKernel.Avx512 : Runs(PanelKernel.Avx2) ? PanelKernel.Avx2 : null;

    /// <summary>Every kernel this CPU runs.</summary>
    public static IEnumerable<PanelKernel> Running => Enum.GetValues<PanelKernel>().Where(Runs);
}
