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
    /// AVX-512 (a Xeon, family 6 model 207: image b1 0.83×, text b1 0.97×). oneMKL's pack on AMD CPUs with AVX-512: on a
    /// Zen 5 the AVX-512 panel kernel beat it product by product at ≤ 100 rows (0.82–0.97×), but whole towers measured
    /// interleaved gave image b1 0.82–1.01×, text b1 0.99–1.00×, and batch 8, which the panels hand to libtorch's linear,
    /// 1.00–1.05× on a host too noisy to decide ("Zen 5 again", 2026-12-07). oneMKL's pack also where no panel kernel runs.
    /// </summary>
    public static LinearPacking Default => PanelKernels.Widest switch
    {
        PanelKernel.Avx2 => LinearPacking.Panels,
        PanelKernel.Avx512 when CpuFeatures.IsGenuineIntel => LinearPacking.Panels,
        _ => LinearPacking.OneMkl,
    };
}
