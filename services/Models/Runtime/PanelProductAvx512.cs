using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MultiModal.Models.Runtime;

/// <summary>
/// <see cref="PanelKernel.Avx512"/>: an FMA kernel of up to 12 rows × 16 columns, one zmm accumulator per row, so each
/// 64-byte line of a panel loaded from L1 serves 12 rows (the AVX2 kernel's serves 6). x is first copied into row tiles
/// (<see cref="PackRows"/>) so the kernel reads its rows from one pointer at fixed offsets instead of 12 row pointers,
/// more than the registers hold. The m rows are split into tiles of equal size (50 rows: 5 × 10; 77: 7 × 11), and the
/// kernel is compiled once per tile height (1 to 12), so no tile computes rows it throws away.
/// The loop nest is <see cref="PanelProduct.Run{TGroups}"/>'s, over the tiles, 10 per pass over the panels.
/// </summary>
internal readonly unsafe struct PanelProductAvx512(PanelProduct product, float* tiles) : IPanelRange, IRowGroups
{
    private const int MaxTileRows = PanelProduct.MaxGroupRows;
    // Tiles per pass over the panels: up to 120 rows × 256 floats of x, 120 KiB, in L2.
    private const int TilesPerBlock = 10;
    private const int Width = PanelPackedMatrix.PanelWidth;

    /// <summary>
    /// x copied into row tiles: tile t (rows [s, e) of <see cref="TileStart"/>) holds x[s + r, i] at s·k + i·(e − s) + r,
    /// so the kernel's step i reads its rows' values from one place. Free with NativeMemory.AlignedFree.
    /// </summary>
    public static float* PackRows(PanelProduct product, int threads)
    {
        var (m, k) = (product.M, product.K);
        var tiles = (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(1L, (long)m * k) * sizeof(float), 64);
        var count = TileCount(m);
        // Written in order, read from the tile's rows side by side, tiles split over the threads (one thread copying
        // 50 × 3072 floats took about a tenth of the product's time; text b1 on one thread was 6 % slower than split).
        var pack = new RowPacker(product.X, tiles, m, k, count);
        if (threads <= 1 || count == 1)
            for (var t = 0; t < count; t++)
                pack.Tile(t);
        else
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, pack.Tile);
        return tiles;
    }

    private readonly struct RowPacker(float* x, float* tiles, int m, int k, int count)
    {
        public void Tile(int t)
        {
            int start = TileStart(m, count, t), rows = TileStart(m, count, t + 1) - start;
            var row = x + (long)start * k;
            var tile = tiles + (long)start * k;
            for (var i = 0; i < k; i++, tile += rows)
                for (var r = 0; r < rows; r++)
                    tile[r] = row[(long)r * k + i];
        }
    }

    public void Run(int from, int to) => product.Run(from, to, this);

    public int Count => TileCount(product.M);

    public int PerBlock => TilesPerBlock;

    public int Start(int g) => TileStart(product.M, TileCount(product.M), g);

    public void Multiply(int start, int rows, int i0, float* b, int depth, float* c, int ldc, float* prefetch) =>
        Kernel(rows, tiles + (long)start * product.K + (long)i0 * rows, b, depth, c, ldc, prefetch);

    private static int TileCount(int m) => (m + MaxTileRows - 1) / MaxTileRows;

    // Tiles of equal height (differing by one at most): tile t starts at row ⌊t·m / count⌋.
    private static int TileStart(int m, int count, int t) => (int)((long)t * m / count);

    private static void Kernel(int rows, float* a, float* b, int depth, float* c, int ldc, float* prefetch)
    {
        switch (rows)
        {
            case 1: Kernel<Rows1>(a, b, depth, c, ldc, prefetch); break;
            case 2: Kernel<Rows2>(a, b, depth, c, ldc, prefetch); break;
            case 3: Kernel<Rows3>(a, b, depth, c, ldc, prefetch); break;
            case 4: Kernel<Rows4>(a, b, depth, c, ldc, prefetch); break;
            case 5: Kernel<Rows5>(a, b, depth, c, ldc, prefetch); break;
            case 6: Kernel<Rows6>(a, b, depth, c, ldc, prefetch); break;
            case 7: Kernel<Rows7>(a, b, depth, c, ldc, prefetch); break;
            case 8: Kernel<Rows8>(a, b, depth, c, ldc, prefetch); break;
            case 9: Kernel<Rows9>(a, b, depth, c, ldc, prefetch); break;
            case 10: Kernel<Rows10>(a, b, depth, c, ldc, prefetch); break;
            case 11: Kernel<Rows11>(a, b, depth, c, ldc, prefetch); break;
            case 12: Kernel<Rows12>(a, b, depth, c, ldc, prefetch); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), rows, $"a tile has 1 to {MaxTileRows} rows");
        }
    }

    // c[r, 0..16) += Σᵢ a[i·rows + r]·b[i, 0..16) for r < rows, i < depth; c has stride ldc. One cache line from
    // `prefetch` on per i goes to L2. TRows makes `rows` a constant in each compiled copy, so the rows past it vanish.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TRows>(float* a, float* b, int depth, float* c, int ldc, float* prefetch) where TRows : struct, IRowCount
    {
        var rows = TRows.Value;
        var acc0 = Vector512.Load(c);
        var acc1 = rows > 1 ? Vector512.Load(c + 1 * ldc) : default;
        var acc2 = rows > 2 ? Vector512.Load(c + 2 * ldc) : default;
        var acc3 = rows > 3 ? Vector512.Load(c + 3 * ldc) : default;
        var acc4 = rows > 4 ? Vector512.Load(c + 4 * ldc) : default;
        var acc5 = rows > 5 ? Vector512.Load(c + 5 * ldc) : default;
        var acc6 = rows > 6 ? Vector512.Load(c + 6 * ldc) : default;
        var acc7 = rows > 7 ? Vector512.Load(c + 7 * ldc) : default;
        var acc8 = rows > 8 ? Vector512.Load(c + 8 * ldc) : default;
        var acc9 = rows > 9 ? Vector512.Load(c + 9 * ldc) : default;
        var acc10 = rows > 10 ? Vector512.Load(c + 10 * ldc) : default;
        var acc11 = rows > 11 ? Vector512.Load(c + 11 * ldc) : default;
        for (var i = 0; i < depth; i++)
        {
            var w = Vector512.Load(b);
            b += Width;
            Sse.Prefetch1(prefetch);
            prefetch += Width;
            acc0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), w, acc0);
            if (rows > 1) acc1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), w, acc1);
            if (rows > 2) acc2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), w, acc2);
            if (rows > 3) acc3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), w, acc3);
            if (rows > 4) acc4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), w, acc4);
            if (rows > 5) acc5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), w, acc5);
            if (rows > 6) acc6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), w, acc6);
            if (rows > 7) acc7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), w, acc7);
            if (rows > 8) acc8 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[8]), w, acc8);
            if (rows > 9) acc9 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[9]), w, acc9);
            if (rows > 10) acc10 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[10]), w, acc10);
            if (rows > 11) acc11 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[11]), w, acc11);
            a += rows;
        }
        acc0.Store(c);
        if (rows > 1) acc1.Store(c + 1 * ldc);
        if (rows > 2) acc2.Store(c + 2 * ldc);
        if (rows > 3) acc3.Store(c + 3 * ldc);
        if (rows > 4) acc4.Store(c + 4 * ldc);
        if (rows > 5) acc5.Store(c + 5 * ldc);
        if (rows > 6) acc6.Store(c + 6 * ldc);
        if (rows > 7) acc7.Store(c + 7 * ldc);
        if (rows > 8) acc8.Store(c + 8 * ldc);
        if (rows > 9) acc9.Store(c + 9 * ldc);
        if (rows > 10) acc10.Store(c + 10 * ldc);
        if (rows > 11) acc11.Store(c + 11 * ldc);
    }

    private interface IRowCount
    {
        static abstract int Value { get; }
    }

    private readonly struct Rows1 : IRowCount { public static int Value => 1; }
    private readonly struct Rows2 : IRowCount { public static int Value => 2; }
    private readonly struct Rows3 : IRowCount { public static int Value => 3; }
    private readonly struct Rows4 : IRowCount { public static int Value => 4; }
    private readonly struct Rows5 : IRowCount { public static int Value => 5; }
    private readonly struct Rows6 : IRowCount { public static int Value => 6; }
    private readonly struct Rows7 : IRowCount { public static int Value => 7; }
    private readonly struct Rows8 : IRowCount { public static int Value => 8; }
    private readonly struct Rows9 : IRowCount { public static int Value => 9; }
    private readonly struct Rows10 : IRowCount { public static int Value => 10; }
    private readonly struct Rows11 : IRowCount { public static int Value => 11; }
    private readonly struct Rows12 : IRowCount { public static int Value => 12; }
}
