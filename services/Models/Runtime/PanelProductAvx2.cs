using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MultiModal.Models.Runtime;

/// <summary>
/// <see cref="PanelKernel.Avx2"/>: an FMA kernel of 6 rows × 16 columns (12 ymm accumulators) reading x in place.
/// The loop nest is <see cref="PanelProduct.Run{TGroups}"/>'s, over strips of 6 rows.
/// </summary>
internal readonly unsafe struct PanelProductAvx2(PanelProduct product) : IPanelRange, IRowGroups
{
    private const int KernelRows = 6;
    private const int Width = PanelPackedMatrix.PanelWidth;

    public void Run(int from, int to) => product.Run(from, to, this);

    // Strips of 6 rows of x, read in place; 20 per pass over the panels (120 rows × 256 floats, 120 KiB of x in L2).
    public int Count => (product.M + KernelRows - 1) / KernelRows;

    public int PerBlock => 20;

    public int Start(int g) => Math.Min(product.M, g * KernelRows);

    public void Multiply(int start, int rows, int i0, float* b, int depth, float* c, int ldc, float* prefetch) =>
        Kernel(product.X + (long)start * product.K + i0, product.K, rows, b, depth, c, ldc, prefetch);

    // c[r, 0..16) += Σᵢ a[r, i]·b[i, 0..16) for r < rows ≤ 6, i < depth. a: rows of stride lda (rows past `rows` repeat
    // the last one and are computed but neither loaded nor stored in c); b: a panel slice, 16 floats per i; c: stride ldc. One cache line from
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
            b += Width;
            Sse.Prefetch1(prefetch);
            prefetch += Width;
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
