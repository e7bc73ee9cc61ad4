// A float32 weight W (n × k) stored as column panels of 16 output features, for y = x·Wᵀ + bias with few rows of x (a
// CLIP forward at batch 1 is 50 image rows or 77 text rows). oneMKL's packed sgemm at those shapes splits k over the
// threads and copies x on every call (tests/Bench/README.md, "Where a batch-1 image forward's time goes"); here each
// thread takes whole panels (no partial sums to join), x is read in place, and the panel being used stays in L1 while
// every row of x passes over it. The arithmetic is a float32 fused multiply-add per term in order of k, as a GEMM's
// kernel does; the sum order differs from oneMKL's blocking, so results agree to float32 rounding, not bit for bit.
// Layout: panel p holds W[16p + c, i] at p·16k + 16i + c (c < 16, zero past n), the BLIS "packed B" of a 6×16 kernel.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>A float32 weight in 16-wide column panels, multiplied by an AVX2 FMA kernel of 6 rows × 16 columns.</summary>
public sealed unsafe class PanelPackedMatrix : IDisposable
{
    public const int PanelWidth = 16;

    /// <summary>
    /// Most rows a product takes through the panels: a CLIP text batch of one is 77, an image batch of two 100. Beyond
    /// that oneMKL's own blocking of x (its per-call pack of W is then a small part) was as fast or faster.
    /// </summary>
    public const int MaxRows = 128;
    private const int KernelRows = 6;
    // Depth of one pass: a panel's slice (256 × 16 floats, 16 KiB) fits L1 beside the 6 rows of x it meets.
    private const int DepthBlock = 256;
    // Rows of x per pass over the panels (120 × 256 floats, 120 KiB of x in L2).
    private const int RowBlock = 20 * KernelRows;
    // Panels one task computes: 64 output features, so a 768-wide product splits into 12 tasks over the threads.
    private const int PanelsPerTask = 4;

    private float* _panels;

    private PanelPackedMatrix(float* panels, int n, int k)
    {
        _panels = panels;
        N = n;
        K = k;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }

    /// <summary>Input features (columns of W).</summary>
    public int K { get; }

    private int PanelCount => (N + PanelWidth - 1) / PanelWidth;

    /// <summary>Whether this CPU runs the kernel (AVX2 with FMA).</summary>
    public static bool Supported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Packs <paramref name="weight"/> (n, k), float32 on the CPU; W itself is not kept.</summary>
    public static PanelPackedMatrix Pack(Tensor weight)
    {
        if (weight.dim() != 2 || weight.dtype != ScalarType.Float32 || weight.device_type != DeviceType.CPU)
            throw new ArgumentException($"Packs a 2-D float32 CPU matrix; got {weight.dtype} {weight.device_type} ({string.Join(", ", weight.shape)}).");
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
        return new PanelPackedMatrix(panels, n, k);
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
        var job = new Job(_panels, (float*)TensorMemory.DataPointer(x), b is null ? null : (float*)TensorMemory.DataPointer(b),
            (float*)TensorMemory.DataPointer(y), m, N, K);
        var tasks = (PanelCount + PanelsPerTask - 1) / PanelsPerTask;
        if (threads <= 1 || tasks == 1)
            job.Run(0, PanelCount);
        else
            Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads },
                t => job.Run(t * PanelsPerTask, Math.Min(PanelCount, (t + 1) * PanelsPerTask)));
        return y;
    }

    public void Dispose()
    {
        if (_panels is null) return;
        NativeMemory.AlignedFree(_panels);
        _panels = null;
    }

    private readonly struct Job(float* panels, float* x, float* bias, float* y, int m, int n, int k)
    {
        // Panels [from, to): y's columns start as the bias (or zero); then row block, then panel (read start to end), then
        // depth block, then 6 rows at a time, accumulating into y.
        public void Run(int from, int to)
        {
            int first = from * PanelWidth, width = Math.Min(n, to * PanelWidth) - first;
            for (var r = 0; r < m; r++)
            {
                var row = new Span<float>(y + (long)r * n + first, width);
                if (bias is null)
                    row.Clear();
                else
                    new ReadOnlySpan<float>(bias + first, width).CopyTo(row);
            }
            var edge = stackalloc float[KernelRows * PanelWidth];
            for (var r0 = 0; r0 < m; r0 += RowBlock)
            {
                var rowEnd = Math.Min(m, r0 + RowBlock);
                for (var p = from; p < to; p++)
                {
                    var columns = Math.Min(PanelWidth, n - p * PanelWidth);
                    for (var i0 = 0; i0 < k; i0 += DepthBlock)
                    {
                        var depth = Math.Min(DepthBlock, k - i0);
                        var b = panels + (long)p * PanelWidth * k + (long)i0 * PanelWidth;
                        // The first 6 rows also prefetch the next slice of the weights (the panel is contiguous) into L2, so
                        // it is there when its turn comes (into L1 it would push out the slice in use); the other rows
                        // prefetch what is already there. Without it a weight's first pass waited on memory: 39 against
                        // 53-59 GFLOP/s on one thread of a Zen 3 at 50×768×768 through 12 distinct weights.
                        var next = b + (long)depth * PanelWidth;
                        for (var r = r0; r < rowEnd; r += KernelRows)
                        {
                            var rows = Math.Min(KernelRows, rowEnd - r);
                            var prefetch = r == r0 ? next : b;
                            var a = x + (long)r * k + i0;
                            var c = y + (long)r * n + p * PanelWidth;
                            if (rows == KernelRows && columns == PanelWidth)
                                Kernel(a, k, rows, b, depth, c, n, prefetch);
                            else
                            {
                                // An edge tile: through a full 6 × 16 scratch tile, copied in and out.
                                CopyTile(c, n, edge, PanelWidth, rows, columns);
                                Kernel(a, k, rows, b, depth, edge, PanelWidth, prefetch);
                                CopyTile(edge, PanelWidth, c, n, rows, columns);
                            }
                        }
                    }
                }
            }
        }

        private static void CopyTile(float* from, int fromStride, float* to, int toStride, int rows, int columns)
        {
            for (var r = 0; r < rows; r++)
                new ReadOnlySpan<float>(from + (long)r * fromStride, columns).CopyTo(new Span<float>(to + (long)r * toStride, columns));
        }
    }

    // c[r, 0..16) += Σᵢ a[r, i]·b[i, 0..16) for r < 6, i < depth. a: rows of stride lda (rows past `rows` repeat the
    // last one and are computed but not stored); b: a panel slice, 16 floats per i; c: stride ldc. One cache line from
    // `prefetch` on per i goes to L2 (a slice of the same depth).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(float* a, int lda, int rows, float* b, int depth, float* c, int ldc, float* prefetch)
    {
        float* a0 = a, a1 = a + lda * Math.Min(1, rows - 1), a2 = a + lda * Math.Min(2, rows - 1),
            a3 = a + lda * Math.Min(3, rows - 1), a4 = a + lda * Math.Min(4, rows - 1), a5 = a + lda * Math.Min(5, rows - 1);
        float* c0 = c, c1 = c + ldc, c2 = c + 2 * ldc, c3 = c + 3 * ldc, c4 = c + 4 * ldc, c5 = c + 5 * ldc;
        var acc00 = Avx.LoadVector256(c0); var acc01 = Avx.LoadVector256(c0 + 8);
        Vector256<float> acc10 = default, acc11 = default, acc20 = default, acc21 = default, acc30 = default, acc31 = default,
            acc40 = default, acc41 = default, acc50 = default, acc51 = default;
        if (rows > 1) { acc10 = Avx.LoadVector256(c1); acc11 = Avx.LoadVector256(c1 + 8); }
        if (rows > 2) { acc20 = Avx.LoadVector256(c2); acc21 = Avx.LoadVector256(c2 + 8); }
        if (rows > 3) { acc30 = Avx.LoadVector256(c3); acc31 = Avx.LoadVector256(c3 + 8); }
        if (rows > 4) { acc40 = Avx.LoadVector256(c4); acc41 = Avx.LoadVector256(c4 + 8); }
        if (rows > 5) { acc50 = Avx.LoadVector256(c5); acc51 = Avx.LoadVector256(c5 + 8); }
        for (var i = 0; i < depth; i++)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            b += PanelWidth;
            Sse.Prefetch1(prefetch);
            prefetch += PanelWidth;
            var s = Vector256.Create(a0[i]);
            acc00 = Fma.MultiplyAdd(s, b0, acc00);
            acc01 = Fma.MultiplyAdd(s, b1, acc01);
            s = Vector256.Create(a1[i]);
            acc10 = Fma.MultiplyAdd(s, b0, acc10);
            acc11 = Fma.MultiplyAdd(s, b1, acc11);
            s = Vector256.Create(a2[i]);
            acc20 = Fma.MultiplyAdd(s, b0, acc20);
            acc21 = Fma.MultiplyAdd(s, b1, acc21);
            s = Vector256.Create(a3[i]);
            acc30 = Fma.MultiplyAdd(s, b0, acc30);
            acc31 = Fma.MultiplyAdd(s, b1, acc31);
            s = Vector256.Create(a4[i]);
            acc40 = Fma.MultiplyAdd(s, b0, acc40);
            acc41 = Fma.MultiplyAdd(s, b1, acc41);
            s = Vector256.Create(a5[i]);
            acc50 = Fma.MultiplyAdd(s, b0, acc50);
            acc51 = Fma.MultiplyAdd(s, b1, acc51);
        }
        Avx.Store(c0, acc00); Avx.Store(c0 + 8, acc01);
        if (rows > 1) { Avx.Store(c1, acc10); Avx.Store(c1 + 8, acc11); }
        if (rows > 2) { Avx.Store(c2, acc20); Avx.Store(c2 + 8, acc21); }
        if (rows > 3) { Avx.Store(c3, acc30); Avx.Store(c3 + 8, acc31); }
        if (rows > 4) { Avx.Store(c4, acc40); Avx.Store(c4 + 8, acc41); }
        if (rows > 5) { Avx.Store(c5, acc50); Avx.Store(c5 + 8, acc51); }
    }
}
