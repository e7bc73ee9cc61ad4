// Products of one or two activation rows with a large bfloat16 weight matrix, y = x·Wᵀ (a decode step of a language
// model). They are bound by the bytes of W read from memory: each weight is used once per row, so bfloat16 weights
// (half the bytes of float32) should make a decode step twice as fast. libtorch 2.10's bfloat16 products of 1-2 rows
// read weights at ~26-28 GB/s on an AMD Zen 5 (2 threads) where its float32 ones reach ~55 GB/s, which left bfloat16
// decode at ~1.2× float32 (tests/Bench/README.md, "Decode-shaped products"). This kernel streams W once for all rows
// and accumulates in float32, as libtorch does. A 32-bit lane of W holds two bfloat16 (even element low, odd element
// high), and a bfloat16 is the high half of a float32: `lane << 16` is the even element, `lane & 0xFFFF0000` the odd
// one, so no widening shuffles are needed; x is split once per call into its even and odd elements to match.
// Measured with `MultiModal.Tests.Bench --gemv` (8 weights of 5632×2048, 2 threads, AMD Zen 5): 51 GB/s for one row and
// 46 GB/s for two, against libtorch's bfloat16 linear at 19 and 23 and its float32 linear at 57-58 (tests/Bench/README.md,
// "bfloat16 decode at memory speed"); what was slow before was the access pattern and alignment, see Job and split.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MultiModal.Models.Runtime;

/// <summary>Memory-bound y = x·Wᵀ for at most <see cref="MaxRows"/> bfloat16 rows of x and bfloat16 weights W.</summary>
public static unsafe class CpuGemv
{
    /// <summary>Most rows of x one call takes; more rows are a GEMM, which libtorch does well.</summary>
    public const int MaxRows = 2;

    // Output rows one task computes (~0.5 MB of weights at K = 2048), so the tasks spread evenly over the threads.
    private const int RowsPerTask = 128;

    /// <summary>
    /// One product of a fused call: weights W (n × k bfloat16 bits, row-major), an optional bias (n bfloat16 bits, or
    /// null) and its output y (rows × n bfloat16 bits): each y is its float32 sum plus the bias, rounded once to bfloat16.
    /// </summary>
    public readonly struct Product(ushort* weights, int n, ushort* bias, ushort* output)
    {
        public ushort* Weights { get; } = weights;
        public int N { get; } = n;
        public ushort* Bias { get; } = bias;
        public ushort* Output { get; } = output;
    }

    /// <summary>
    /// y[r, j] = bf16(Σₖ x[r, k]·W[j, k] + bias[j]) for r &lt; rows, j &lt; n, for each product of the same x (a layer's
    /// q, k and v projections; gate and up) in one pass over the threads: one split of x, one fork and join, and the
    /// small matrices' rows share tasks' slack with the big ones'. x: rows × k bfloat16 bits. Spread over
    /// <paramref name="threads"/> threads (the caller's included).
    /// </summary>
    public static void MultiplyBf16(ushort* x, int rows, int k, ReadOnlySpan<Product> products, int threads)
    {
        if (rows is < 1 or > MaxRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"1..{MaxRows} rows");
        // x in float32 (exact), then each row's even elements followed by its odd ones: split[r][0 .. k/2) and
        // split[r][k/2 .. k). 64-byte aligned: the kernels load it 64 bytes at a time, and loads that straddle two cache
        // lines halved the two-row kernel's speed.
        var buffer = (float*)NativeMemory.AlignedAlloc((nuint)rows * (nuint)k * 2 * sizeof(float), 64);
        try
        {
            float* wide = buffer, split = buffer + (long)rows * k;
            for (var i = 0L; i < (long)rows * k; i++)
                wide[i] = Float(x[i]);
            for (var r = 0; r < rows; r++)
                Deinterleave(wide + (long)r * k, split + (long)r * k, k);
            // Task t covers RowsPerTask output rows of one product; firstTask[p] is product p's first task.
            var jobs = new Job[products.Length];
            var firstTask = new int[products.Length + 1];
            for (var p = 0; p < products.Length; p++)
            {
                jobs[p] = new Job(wide, split, rows, k, products[p]);
                firstTask[p + 1] = firstTask[p] + (products[p].N + RowsPerTask - 1) / RowsPerTask;
            }
            var tasks = firstTask[^1];
            if (threads <= 1 || tasks == 1)
                foreach (var job in jobs)
                    job.Run(0, job.N);
            else
                Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                {
                    var p = 0;
                    while (t >= firstTask[p + 1])
                        p++;
                    var from = (t - firstTask[p]) * RowsPerTask;
                    jobs[p].Run(from, Math.Min(jobs[p].N, from + RowsPerTask));
                });
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static void Deinterleave(float* x, float* split, int k)
    {
        var half = k / 2;
        for (var i = 0; i < half; i++)
        {
            split[i] = x[2 * i];
            split[half + i] = x[2 * i + 1];
        }
    }

    private readonly struct Job(float* x, float* split, int rows, int k, Product product)
    {
        public int N => product.N;

        // One weight row at a time, start to end: a single sequential stream per thread. Dotting several rows at once
        // (4 rows, or 2×2 for two x rows) reads streams exactly k·2 bytes apart, which alias in the caches at the
        // 4 KiB rows of K = 2048 and ran at 18–34 GB/s on 2 threads against 40–50 GB/s for one row at a time.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int from, int to)
        {
            var half = k / 2;
            int n = product.N;
            ushort* w = product.Weights, bias = product.Bias, y = product.Output;
            float* x0Even = split, x0Odd = split + half, x1Even = split + k, x1Odd = split + k + half;
            for (var j = from; j < to; j++)
            {
                var row = w + (long)j * k;
                if (rows == 1)
                    y[j] = Output(Dot(row, x, x0Even, x0Odd, k), bias, j);
                else
                {
                    var (s0, s1) = DotTwo(row, x, x0Even, x0Odd, x + k, x1Even, x1Odd, k);
                    (y[j], y[n + j]) = (Output(s0, bias, j), Output(s1, bias, j));
                }
            }
        }

        // The float32 sum plus the bias (when there is one), rounded once, as libtorch's float32 product + bias → bf16.
        private static ushort Output(float sum, ushort* bias, int j) =>
            BFloat16Bits.Round(bias is null ? sum : sum + Float(bias[j]));
    }

    // Σ w[i]·x[i]: the vector loop takes 32 bfloat16 (16 lanes of two) per step against xEven/xOdd; the tail uses x.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(ushort* w, float* x, float* xEven, float* xOdd, int k)
    {
        int i;
        float sum;
        if (Vector512.IsHardwareAccelerated)
            (i, sum) = (k & ~31, Dot512(w, xEven, xOdd, k & ~31));
        else if (Vector256.IsHardwareAccelerated)
            (i, sum) = (k & ~15, Dot256(w, xEven, xOdd, k & ~15));
        else
            (i, sum) = (0, 0f);
        for (; i < k; i++)
            sum += Float(w[i]) * x[i];
        return sum;
    }

    // Two rows of x against one row of w: (w·x0, w·x1), each weight read once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float, float) DotTwo(ushort* w, float* x0, float* x0Even, float* x0Odd, float* x1, float* x1Even, float* x1Odd, int k)
    {
        var i = 0;
        float s0 = 0f, s1 = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            i = k & ~31;
            DotTwo512(w, x0Even, x0Odd, x1Even, x1Odd, i, out s0, out s1);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            i = k & ~15;
            s0 = Dot256(w, x0Even, x0Odd, i);
            s1 = Dot256(w, x1Even, x1Odd, i);
        }
        for (; i < k; i++)
        {
            var wi = Float(w[i]);
            s0 += wi * x0[i];
            s1 += wi * x1[i];
        }
        return (s0, s1);
    }

    // The vector loops take a multiple of their width: k is 32·m (512-bit) or 16·m (256-bit) here.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot512(ushort* w, float* xEven, float* xOdd, int k)
    {
        Vector512<float> a0 = default, a1 = default;
        for (var i = 0; i < k; i += 32)
        {
            Prefetch(w + i + PrefetchAhead);
            var lanes = Vector512.Load((uint*)(w + i));
            a0 = Vector512.FusedMultiplyAdd(Even(lanes), Vector512.Load(xEven + (i >> 1)), a0);
            a1 = Vector512.FusedMultiplyAdd(Odd(lanes), Vector512.Load(xOdd + (i >> 1)), a1);
        }
        return Vector512.Sum(a0 + a1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTwo512(ushort* w, float* x0Even, float* x0Odd, float* x1Even, float* x1Odd, int k,
        out float s0, out float s1)
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        for (var i = 0; i < k; i += 32)
        {
            Prefetch(w + i + PrefetchAhead);
            var lanes = Vector512.Load((uint*)(w + i));
            Vector512<float> even = Even(lanes), odd = Odd(lanes);
            var h = i >> 1;
            a0 = Vector512.FusedMultiplyAdd(even, Vector512.Load(x0Even + h), a0);
            a1 = Vector512.FusedMultiplyAdd(odd, Vector512.Load(x0Odd + h), a1);
            b0 = Vector512.FusedMultiplyAdd(even, Vector512.Load(x1Even + h), b0);
            b1 = Vector512.FusedMultiplyAdd(odd, Vector512.Load(x1Odd + h), b1);
        }
        s0 = Vector512.Sum(a0 + a1);
        s1 = Vector512.Sum(b0 + b1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot256(ushort* w, float* xEven, float* xOdd, int k)
    {
        Vector256<float> a0 = default, a1 = default;
        for (var i = 0; i < k; i += 16)
        {
            Prefetch(w + i + PrefetchAhead);
            var lanes = Vector256.Load((uint*)(w + i));
            a0 = Vector256.FusedMultiplyAdd(Even(lanes), Vector256.Load(xEven + (i >> 1)), a0);
            a1 = Vector256.FusedMultiplyAdd(Odd(lanes), Vector256.Load(xOdd + (i >> 1)), a1);
        }
        return Vector256.Sum(a0 + a1);
    }

    private const uint HighHalf = 0xFFFF0000;

    // Software prefetch 8 KiB ahead of the load (two rows ahead at K = 2048). One-row products on 2 threads of an AMD
    // Zen 5, three in-process runs of each distance: none 34-57 GB/s, 1 KiB 38-59, 4 KiB 37-61, 8 KiB 62-80, 16 KiB 46-80.
    // A prefetch past the end of W is harmless: prefetches do not fault.
    private const int PrefetchAhead = 4096;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(ushort* address)
    {
        if (Sse.IsSupported)
            Sse.Prefetch0(address);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Even(Vector512<uint> lanes) => Vector512.ShiftLeft(lanes, 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Odd(Vector512<uint> lanes) => (lanes & Vector512.Create(HighHalf)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even(Vector256<uint> lanes) => Vector256.ShiftLeft(lanes, 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Odd(Vector256<uint> lanes) => (lanes & Vector256.Create(HighHalf)).AsSingle();

    private static float Float(ushort bfloat16) => BFloat16Bits.ToFloat(bfloat16);
}
