// Products of one or two activation rows with a large bfloat16 weight matrix, y = x·Wᵀ (a decode step of a language
// model). They are bound by the bytes of W read from memory: each weight is used once per row, so bfloat16 weights
// (half the bytes of float32) should make a decode step twice as fast. libtorch 2.10's bfloat16 products of 1-2 rows
// read weights at ~26-28 GB/s on an AMD Zen 5 (2 threads) where its float32 ones reach ~55 GB/s, which left bfloat16
// decode at ~1.2× float32 (tests/Bench/README.md, "Decode-shaped products"). This kernel streams W once for all rows
// and accumulates in float32, as libtorch does. A 32-bit lane of W holds two bfloat16 (even element low, odd element
// high), and a bfloat16 is the high half of a float32: `lane << 16` is the even element, `lane & 0xFFFF0000` the odd
// one, so no widening shuffles are needed; x is split once per call into its even and odd elements to match.
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MultiModal.Models.Runtime;

/// <summary>Memory-bound y = x·Wᵀ for at most <see cref="MaxRows"/> float32 rows of x and bfloat16 weights W.</summary>
public static unsafe class CpuGemv
{
    /// <summary>Most rows of x one call takes; more rows are a GEMM, which libtorch does well.</summary>
    public const int MaxRows = 2;

    // Output rows one task computes (~0.5 MB of weights at K = 2048), so the tasks spread evenly over the threads.
    private const int RowsPerTask = 128;

    /// <summary>
    /// y[r, j] = Σₖ x[r, k]·W[j, k] for r &lt; rows, j &lt; n. x: rows × k float32; w: n × k bfloat16 bits, row-major;
    /// y: rows × n float32. Spread over <paramref name="threads"/> threads (the caller's included).
    /// </summary>
    public static void MultiplyBf16(float* x, int rows, ushort* w, int n, int k, float* y, int threads)
    {
        if (rows is < 1 or > MaxRows)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"1..{MaxRows} rows");
        // Even elements of each row of x, then odd ones: split[r][0 .. k/2) and split[r][k/2 .. k).
        var split = ArrayPool<float>.Shared.Rent(rows * k);
        try
        {
            fixed (float* s = split)
            {
                for (var r = 0; r < rows; r++)
                    Deinterleave(x + (long)r * k, s + (long)r * k, k);
                var job = new Job(x, s, rows, w, n, k, y);
                var tasks = (n + RowsPerTask - 1) / RowsPerTask;
                if (threads <= 1 || tasks == 1)
                    job.Run(0, n);
                else
                    Parallel.For(0, tasks, new ParallelOptions { MaxDegreeOfParallelism = threads },
                        t => job.Run(t * RowsPerTask, Math.Min(n, (t + 1) * RowsPerTask)));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(split);
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

    private readonly struct Job(float* x, float* split, int rows, ushort* w, int n, int k, float* y)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int from, int to)
        {
            // Several weight rows per pass: more memory streams in flight, and each x load serves them all.
            var half = k / 2;
            var j = from;
            if (rows == 1)
            {
                for (; j + 4 <= to; j += 4)
                    DotFour(w + (long)j * k, k, x, split, split + half, y + j);
                for (; j < to; j++)
                    y[j] = Dot(w + (long)j * k, x, split, split + half, k);
            }
            else
            {
                for (; j + 2 <= to; j += 2)
                    DotTwoByTwo(w + (long)j * k, k, x, split, x + k, split + k, y + j, n);
                for (; j < to; j++)
                    (y[j], y[n + j]) = DotTwo(w + (long)j * k, x, split, split + half, x + k, split + k, split + k + half, k);
            }
        }
    }

    // y[0..4) = rows 0..3 of w (row stride k) · x, on 512-bit vectors where the CPU has them.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotFour(ushort* w, int k, float* x, float* xEven, float* xOdd, float* y)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            for (var r = 0; r < 4; r++)
                y[r] = Dot(w + (long)r * k, x, xEven, xOdd, k);
            return;
        }
        ushort* w0 = w, w1 = w + k, w2 = w + 2L * k, w3 = w + 3L * k;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        var i = 0;
        for (; i + 32 <= k; i += 32)
        {
            var h = i >> 1;
            Vector512<float> xe = Vector512.Load(xEven + h), xo = Vector512.Load(xOdd + h);
            var l0 = Vector512.Load((uint*)(w0 + i));
            var l1 = Vector512.Load((uint*)(w1 + i));
            var l2 = Vector512.Load((uint*)(w2 + i));
            var l3 = Vector512.Load((uint*)(w3 + i));
            a0 = Vector512.FusedMultiplyAdd(Odd(l0), xo, Vector512.FusedMultiplyAdd(Even(l0), xe, a0));
            a1 = Vector512.FusedMultiplyAdd(Odd(l1), xo, Vector512.FusedMultiplyAdd(Even(l1), xe, a1));
            a2 = Vector512.FusedMultiplyAdd(Odd(l2), xo, Vector512.FusedMultiplyAdd(Even(l2), xe, a2));
            a3 = Vector512.FusedMultiplyAdd(Odd(l3), xo, Vector512.FusedMultiplyAdd(Even(l3), xe, a3));
        }
        float s0 = Vector512.Sum(a0), s1 = Vector512.Sum(a1), s2 = Vector512.Sum(a2), s3 = Vector512.Sum(a3);
        for (; i < k; i++)
        {
            s0 += Float(w0[i]) * x[i];
            s1 += Float(w1[i]) * x[i];
            s2 += Float(w2[i]) * x[i];
            s3 += Float(w3[i]) * x[i];
        }
        (y[0], y[1], y[2], y[3]) = (s0, s1, s2, s3);
    }

    // Rows 0 and 1 of w (row stride k) against two rows of x: y[0], y[1] for x0 and y[n], y[n + 1] for x1.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotTwoByTwo(ushort* w, int k, float* x0, float* x0Split, float* x1, float* x1Split, float* y, int n)
    {
        var half = k / 2;
        if (!Vector512.IsHardwareAccelerated)
        {
            for (var r = 0; r < 2; r++)
                (y[r], y[n + r]) = DotTwo(w + (long)r * k, x0, x0Split, x0Split + half, x1, x1Split, x1Split + half, k);
            return;
        }
        ushort* w0 = w, w1 = w + k;
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
        var i = 0;
        for (; i + 32 <= k; i += 32)
        {
            var h = i >> 1;
            Vector512<float> x0e = Vector512.Load(x0Split + h), x0o = Vector512.Load(x0Split + half + h);
            Vector512<float> x1e = Vector512.Load(x1Split + h), x1o = Vector512.Load(x1Split + half + h);
            var l0 = Vector512.Load((uint*)(w0 + i));
            var l1 = Vector512.Load((uint*)(w1 + i));
            Vector512<float> e0 = Even(l0), o0 = Odd(l0), e1 = Even(l1), o1 = Odd(l1);
            a0 = Vector512.FusedMultiplyAdd(o0, x0o, Vector512.FusedMultiplyAdd(e0, x0e, a0));
            a1 = Vector512.FusedMultiplyAdd(o1, x0o, Vector512.FusedMultiplyAdd(e1, x0e, a1));
            b0 = Vector512.FusedMultiplyAdd(o0, x1o, Vector512.FusedMultiplyAdd(e0, x1e, b0));
            b1 = Vector512.FusedMultiplyAdd(o1, x1o, Vector512.FusedMultiplyAdd(e1, x1e, b1));
        }
        float s00 = Vector512.Sum(a0), s01 = Vector512.Sum(a1), s10 = Vector512.Sum(b0), s11 = Vector512.Sum(b1);
        for (; i < k; i++)
        {
            float v0 = Float(w0[i]), v1 = Float(w1[i]);
            s00 += v0 * x0[i];
            s01 += v1 * x0[i];
            s10 += v0 * x1[i];
            s11 += v1 * x1[i];
        }
        (y[0], y[1], y[n], y[n + 1]) = (s00, s01, s10, s11);
    }

    // Σ w[i]·x[i]: the vector loop takes 32 bfloat16 (16 lanes of two) per step against xEven/xOdd; the tail uses x.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(ushort* w, float* x, float* xEven, float* xOdd, int k)
    {
        var i = 0;
        var sum = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a0 = default, a1 = default;
            for (; i + 32 <= k; i += 32)
            {
                var lanes = Vector512.Load((uint*)(w + i));
                a0 = Vector512.FusedMultiplyAdd(Even(lanes), Vector512.Load(xEven + i / 2), a0);
                a1 = Vector512.FusedMultiplyAdd(Odd(lanes), Vector512.Load(xOdd + i / 2), a1);
            }
            sum = Vector512.Sum(a0 + a1);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a0 = default, a1 = default;
            for (; i + 16 <= k; i += 16)
            {
                var lanes = Vector256.Load((uint*)(w + i));
                a0 = Vector256.FusedMultiplyAdd(Even(lanes), Vector256.Load(xEven + i / 2), a0);
                a1 = Vector256.FusedMultiplyAdd(Odd(lanes), Vector256.Load(xOdd + i / 2), a1);
            }
            sum = Vector256.Sum(a0 + a1);
        }
        for (; i < k; i++)
            sum += Float(w[i]) * x[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float, float) DotTwo(ushort* w, float* x0, float* x0Even, float* x0Odd, float* x1, float* x1Even,
        float* x1Odd, int k)
    {
        var i = 0;
        float s0 = 0f, s1 = 0f;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
            for (; i + 32 <= k; i += 32)
            {
                var lanes = Vector512.Load((uint*)(w + i));
                Vector512<float> even = Even(lanes), odd = Odd(lanes);
                a0 = Vector512.FusedMultiplyAdd(even, Vector512.Load(x0Even + i / 2), a0);
                a1 = Vector512.FusedMultiplyAdd(odd, Vector512.Load(x0Odd + i / 2), a1);
                b0 = Vector512.FusedMultiplyAdd(even, Vector512.Load(x1Even + i / 2), b0);
                b1 = Vector512.FusedMultiplyAdd(odd, Vector512.Load(x1Odd + i / 2), b1);
            }
            (s0, s1) = (Vector512.Sum(a0 + a1), Vector512.Sum(b0 + b1));
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default;
            for (; i + 16 <= k; i += 16)
            {
                var lanes = Vector256.Load((uint*)(w + i));
                Vector256<float> even = Even(lanes), odd = Odd(lanes);
                a0 = Vector256.FusedMultiplyAdd(even, Vector256.Load(x0Even + i / 2), a0);
                a1 = Vector256.FusedMultiplyAdd(odd, Vector256.Load(x0Odd + i / 2), a1);
                b0 = Vector256.FusedMultiplyAdd(even, Vector256.Load(x1Even + i / 2), b0);
                b1 = Vector256.FusedMultiplyAdd(odd, Vector256.Load(x1Odd + i / 2), b1);
            }
            (s0, s1) = (Vector256.Sum(a0 + a1), Vector256.Sum(b0 + b1));
        }
        for (; i < k; i++)
        {
            var wi = Float(w[i]);
            s0 += wi * x0[i];
            s1 += wi * x1[i];
        }
        return (s0, s1);
    }

    private const uint HighHalf = 0xFFFF0000;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Even(Vector512<uint> lanes) => Vector512.ShiftLeft(lanes, 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Odd(Vector512<uint> lanes) => (lanes & Vector512.Create(HighHalf)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Even(Vector256<uint> lanes) => Vector256.ShiftLeft(lanes, 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Odd(Vector256<uint> lanes) => (lanes & Vector256.Create(HighHalf)).AsSingle();

    private static float Float(ushort bfloat16) => BitConverter.Int32BitsToSingle(bfloat16 << 16);
}
