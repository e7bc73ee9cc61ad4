// A float32 weight W (n × k) stored as column panels of 16 output features, for y = x·Wᵀ + bias with few rows of x (a
// CLIP forward at batch 1 is 50 image rows or 77 text rows). oneMKL's packed sgemm at those shapes splits k over the
// threads and copies x on every call (tests/Bench/README.md, "Where a batch-1 image forward's time goes"); here each
// thread takes whole panels (no partial sums to join), and the panel being used stays in L1 while every row of x
// passes over it. The arithmetic is a float32 fused multiply-add per term in order of k, as a GEMM's kernel does; the
// sum order differs from oneMKL's blocking, so results agree to float32 rounding, not bit for bit.
// Layout: panel p holds W[16p + c, i] at p·16k + 16i + c (c < 16, zero past n), the BLIS "packed B" of a kernel 16
// columns wide. Two kernels read it (PanelKernel): AVX2 (PanelProductAvx2) and AVX-512 (PanelProductAvx512).
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>A float32 weight in 16-wide column panels, multiplied by an AVX2 or AVX-512 FMA kernel.</summary>
public sealed unsafe class PanelPackedMatrix : IDisposable
{
    public const int PanelWidth = 16;

    /// <summary>
    /// Most rows a product takes through the panels: a CLIP text batch of one is 77, an image batch of two 100. Beyond
    /// that oneMKL's own blocking of x (its per-call pack of W is then a small part) was as fast or faster.
    /// </summary>
    public const int MaxRows = 128;
    // Depth of one pass: a panel's slice (256 × 16 floats, 16 KiB) fits L1 beside the rows of x it meets.
    internal const int DepthBlock = 256;
    // Panels one task computes: 64 output features, so a 768-wide product splits into 12 tasks over the threads.
    private const int PanelsPerTask = 4;

    private float* _panels;

    private PanelPackedMatrix(float* panels, int n, int k, PanelKernel kernel)
    {
        _panels = panels;
        N = n;
        K = k;
        Kernel = kernel;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }

    /// <summary>Input features (columns of W).</summary>
    public int K { get; }

    /// <summary>The instructions <see cref="Multiply"/> uses.</summary>
    public PanelKernel Kernel { get; }

    private int PanelCount => (N + PanelWidth - 1) / PanelWidth;

    /// <summary>Whether this CPU runs a kernel (AVX2 with FMA at least).</summary>
    public static bool Supported => PanelKernels.Widest is not null;

    /// <summary>
    /// Packs <paramref name="weight"/> (n, k), float32 on the CPU, for <paramref name="kernel"/> (the widest this CPU
    /// runs when null); W itself is not kept.
    /// </summary>
    public static PanelPackedMatrix Pack(Tensor weight, PanelKernel? kernel = null)
    {
        if (weight.dim() != 2 || weight.dtype != ScalarType.Float32 || weight.device_type != DeviceType.CPU)
            throw new ArgumentException($"Packs a 2-D float32 CPU matrix; got {weight.dtype} {weight.device_type} ({string.Join(", ", weight.shape)}).");
        var chosen = kernel ?? PanelKernels.Widest ?? throw new PlatformNotSupportedException("The panel kernels need AVX2 with FMA.");
        if (!PanelKernels.Runs(chosen))
            throw new PlatformNotSupportedException($"This CPU does not run the {chosen} panel kernel.");
        int n = checked((int)weight.shape[0]), k = checked((int)weight.shape[1]);
        using var contiguous = weight.contiguous();
        var w = (float*)TensorMemory.DataPointer(contiguous);
        var panelCount = (n + PanelWidth - 1) / PanelWidth;
        var panels = (float*)NativeMemory.AlignedAlloc((nuint)panelCount * PanelWidth * (nuint)k * sizeof(float), 64);
        for (var p = 0; p < panelCount; p++)
        {
            var panel = panels + (long)p * PanelWidth * k;
            for (var c = 0; c < PanelWidth; c++)
            {
                var row = p * PanelWidth + c;
                for (var i = 0; i < k; i++)
                    panel[(long)i * PanelWidth + c] = row < n ? w[(long)row * k + i] : 0f;
            }
        }
        return new PanelPackedMatrix(panels, n, k, chosen);
    }

    /// <summary>input (…, k) float32 on the CPU → input·Wᵀ + bias, (…, n), over <paramref name="threads"/> threads.</summary>
    public Tensor Multiply(Tensor input, Tensor? bias, int threads)
    {
        ObjectDisposedException.ThrowIf(_panels is null, this);
        // The kernel reads x by address: a wrong width would read past it, where linear would throw.
        if (input.dim() < 1 || input.shape[^1] != K || input.dtype != ScalarType.Float32 || input.device_type != DeviceType.CPU)
            throw new ArgumentException($"Multiplies float32 CPU rows of {K}; got {input.dtype} {input.device_type} ({string.Join(", ", input.shape)}).");
        using var x = input.contiguous();
        var m = checked((int)(x.numel() / K));
        using var b = bias?.contiguous();
        var y = empty([.. input.shape[..^1], N]);
        var product = new PanelProduct(_panels, (float*)TensorMemory.DataPointer(x), b is null ? null : (float*)TensorMemory.DataPointer(b),
            (float*)TensorMemory.DataPointer(y), m, N, K);
        if (Kernel == PanelKernel.Avx512)
        {
            var tiles = PanelProductAvx512.PackRows(product, threads);
            try { RunOverPanels(new PanelProductAvx512(product, tiles), threads); }
            finally { NativeMemory.AlignedFree(tiles); }
        }
        else
            RunOverPanels(new PanelProductAvx2(product), threads);
        return y;
    }

    public void Dispose()
    {
        if (_panels is null) return;
        NativeMemory.AlignedFree(_panels);
        _panels = null;
    }

    private void RunOverPanels<TProduct>(TProduct product, int threads) where TProduct : struct, IPanelRange
    {
        var tasks = (PanelCount + PanelsPerTask - 1) / PanelsPerTask;
        if (threads <= 1 || tasks == 1)
            product.Run(0, PanelCount);
        else
            Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads },
                t => product.Run(t * PanelsPerTask, Math.Min(PanelCount, (t + 1) * PanelsPerTask)));
    }
}

/// <summary>A product that computes y's columns of panels [from, to) on the calling thread.</summary>
internal interface IPanelRange
{
    void Run(int from, int to);
}

/// <summary>
/// How a kernel covers x's rows in <see cref="PanelProduct.Run{TGroups}"/>: groups of at most
/// <see cref="PanelProduct.MaxGroupRows"/> rows, each multiplied by one panel slice at a time.
/// </summary>
internal unsafe interface IRowGroups
{
    /// <summary>Groups of rows.</summary>
    int Count { get; }

    /// <summary>Groups per pass over the panels: their rows of x (~120 × 256 floats, 120 KiB) stay in L2 meanwhile.</summary>
    int PerBlock { get; }

    /// <summary>The first row of group <paramref name="g"/>; Start(Count) is the row count.</summary>
    int Start(int g);

    /// <summary>
    /// c[r, 0..16) += Σᵢ x[start + r, i0 + i]·b[i, 0..16) for r &lt; rows, i &lt; depth, c of stride ldc; one cache line
    /// from <paramref name="prefetch"/> on per i goes to L2.
    /// </summary>
    void Multiply(int start, int rows, int i0, float* b, int depth, float* c, int ldc, float* prefetch);
}

/// <summary>
/// One y = x·Wᵀ + bias over panels: x (m × k, rows in place), y (m × n), bias (n) or null. What both kernels share:
/// starting y's columns as the bias, the loop nest over panels and row groups, and edge tiles through a scratch tile.
/// </summary>
internal readonly unsafe struct PanelProduct(float* panels, float* x, float* bias, float* y, int m, int n, int k)
{
    public float* Panels { get; } = panels;
    public float* X { get; } = x;
    public float* Bias { get; } = bias;
    public float* Y { get; } = y;
    public int M { get; } = m;
    public int N { get; } = n;
    public int K { get; } = k;

    /// <summary>Panel <paramref name="p"/>'s slice from depth <paramref name="i0"/>.</summary>
    public float* Slice(int p, int i0) => Panels + (long)p * PanelPackedMatrix.PanelWidth * K + (long)i0 * PanelPackedMatrix.PanelWidth;

    /// <summary>y's columns of panels [from, to) set to the bias (or zero), before the kernels accumulate into them.</summary>
    public void StartColumns(int from, int to)
    {
        int first = from * PanelPackedMatrix.PanelWidth, width = Math.Min(N, to * PanelPackedMatrix.PanelWidth) - first;
        for (var r = 0; r < M; r++)
        {
            var row = new Span<float>(Y + (long)r * N + first, width);
            if (Bias is null)
                row.Clear();
            else
                new ReadOnlySpan<float>(Bias + first, width).CopyTo(row);
        }
    }

    /// <summary>Most rows one group of <see cref="IRowGroups"/> has (the AVX-512 kernel's tiles).</summary>
    public const int MaxGroupRows = 12;

    /// <summary>
    /// The loop nest both kernels share, over y's columns of panels [from, to): block of row groups, then panel (read
    /// start to end), then depth block, then group, accumulating into y. A panel narrower than 16 columns (the last one
    /// when n is not a multiple of 16) goes through a scratch tile, copied in and out.
    /// </summary>
    public void Run<TGroups>(int from, int to, TGroups groups) where TGroups : struct, IRowGroups
    {
        const int width = PanelPackedMatrix.PanelWidth;
        StartColumns(from, to);
        var edge = stackalloc float[MaxGroupRows * width];
        var count = groups.Count;
        for (var g0 = 0; g0 < count; g0 += groups.PerBlock)
        {
            var groupEnd = Math.Min(count, g0 + groups.PerBlock);
            for (var p = from; p < to; p++)
            {
                var columns = Math.Min(width, N - p * width);
                for (var i0 = 0; i0 < K; i0 += PanelPackedMatrix.DepthBlock)
                {
                    var depth = Math.Min(PanelPackedMatrix.DepthBlock, K - i0);
                    var b = Slice(p, i0);
                    // The first group also prefetches the next slice of the weights (the panel is contiguous) into L2, so
                    // it is there when its turn comes (into L1 it would push out the slice in use); the other groups
                    // prefetch what is already there. Without it a weight's first pass waited on memory: 39 against
                    // 53-59 GFLOP/s on one thread of a Zen 3 at 50×768×768 through 12 distinct weights.
                    var next = b + (long)depth * width;
                    for (var g = g0; g < groupEnd; g++)
                    {
                        int start = groups.Start(g), rows = groups.Start(g + 1) - start;
                        var c = Y + (long)start * N + p * width;
                        var prefetch = g == g0 ? next : b;
                        if (columns == width)
                            groups.Multiply(start, rows, i0, b, depth, c, N, prefetch);
                        else
                        {
                            CopyTile(c, N, edge, width, rows, columns);
                            groups.Multiply(start, rows, i0, b, depth, edge, width, prefetch);
                            CopyTile(edge, width, c, N, rows, columns);
                        }
                    }
                }
            }
        }
    }

    public static void CopyTile(float* from, int fromStride, float* to, int toStride, int rows, int columns)
    {
        for (var r = 0; r < rows; r++)
            new ReadOnlySpan<float>(from + (long)r * fromStride, columns).CopyTo(new Span<float>(to + (long)r * toStride, columns));
    }
}
