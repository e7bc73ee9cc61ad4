namespace MultiModal.Models.Runtime;

/// <summary>How a serving model's float32 CPU linear layers hold a second, packed copy of their weights.</summary>
public enum LinearPacking
{
    /// <summary>oneMKL's packed sgemm (<see cref="MklPackedMatrix"/>) for every product.</summary>
    OneMkl,

    /// <summary>
    /// 16-wide column panels (<see cref="PanelPackedMatrix"/>) for products of at most
    /// <see cref="PanelPackedMatrix.MaxRows"/> rows; more rows go to libtorch's linear, which re-packs per call.
    /// </summary>
    Panels,
}

/// <summary>Which <see cref="LinearPacking"/> a model packs with when none is named.</summary>
public static class LinearPackings
{
    /// <summary>
    /// Panels where they were measured ahead of oneMKL's pack at CLIP's batch-1 shapes (tests/Bench/README.md, "Panel
    /// kernel"): CPUs with AVX2 but no AVX-512 (a Zen 3: image b1 0.74×, text b1 0.77× the time) and Intel CPUs with
    /// AVX-512 (a Xeon, family 6 model 207: image b1 0.88–0.93×, text b1 0.98–1.03×). oneMKL's pack on other AVX-512
    /// CPUs (AMD Zen 4/5, where it ran at 310 GFLOP/s at 50 rows and the AVX-512 panel kernel has not been measured) and
    /// where no panel kernel runs.
    /// </summary>
    public static LinearPacking Default => PanelKernels.Widest switch
    {
        PanelKernel.Avx2 => LinearPacking.Panels,
        PanelKernel.Avx512 when CpuFeatures.IsGenuineIntel => LinearPacking.Panels,
        _ => LinearPacking.OneMkl,
    };
}
