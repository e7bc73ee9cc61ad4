using System.Runtime.Intrinsics;

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
    /// Panels on CPUs with AVX2 and FMA but no AVX-512, where they were measured ahead of oneMKL's pack at CLIP's
    /// batch-1 shapes (tests/Bench/README.md, "Panel kernel"); oneMKL's pack where AVX-512 runs (its packed sgemm was
    /// measured there, the AVX2 panel kernel was not) or the kernel cannot.
    /// </summary>
    public static LinearPacking Default =>
        PanelPackedMatrix.Supported && !Vector512.IsHardwareAccelerated ? LinearPacking.Panels : LinearPacking.OneMkl;
}
