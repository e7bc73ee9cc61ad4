// LlamaRMSNorm of a few rows in one pass: weight · round(x · rsqrt(mean(x²) + eps)) with the statistics in float32, as
// transformers computes it (x to float32, pow, mean, add, rsqrt, multiply, back to the input dtype, times the weight).
// In a decode step those are eight libtorch operators on 2048 numbers each, twice per layer, and each operator costs
// more in dispatch and allocation than its arithmetic; here they are one. The arithmetic per element is the same
// (x·r in float32, rounded to bfloat16 to nearest even when the input is bfloat16, then w·that rounded again); only
// the sum of squares is taken in another order (double accumulation), so r can differ from libtorch's in the last bit.
using System.Numerics;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>y = w · (x · rsqrt(mean(x²) + eps)) per row, float32 or bfloat16 data, statistics in float32.</summary>
public static unsafe class CpuRmsNorm
{
    /// <summary>
    /// LlamaRMSNorm of <paramref name="x"/> (…, n), float32 or bfloat16, contiguous on the CPU, with a contiguous
    /// <paramref name="weight"/> (n) of the same dtype: a new tensor of x's shape and dtype.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor weight, double eps)
    {
        if (!Supports(x, weight))
            throw new ArgumentException($"CpuRmsNorm takes contiguous CPU float32 or bfloat16 x (…, n) and weight (n) of its dtype; got {x.dtype} ({string.Join(", ", x.shape)}) and {weight.dtype} ({string.Join(", ", weight.shape)})");
        var y = empty_like(x);
        int n = (int)weight.shape[0], rows = (int)(x.numel() / n);
        if (x.dtype == ScalarType.Float32)
            Float32((float*)TensorMemory.DataPointer(x), (float*)TensorMemory.DataPointer(weight), (float*)TensorMemory.DataPointer(y), rows, n, (float)eps);
        else
            BFloat16((ushort*)TensorMemory.DataPointer(x), (ushort*)TensorMemory.DataPointer(weight), (ushort*)TensorMemory.DataPointer(y), rows, n, (float)eps);
        return y;
    }

    /// <summary>Whether <see cref="Apply"/> takes these tensors.</summary>
    public static bool Supports(Tensor x, Tensor weight) =>
        x.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU && x.is_contiguous() && weight.is_contiguous()
        && x.dtype == weight.dtype && x.dtype is ScalarType.Float32 or ScalarType.BFloat16 && weight.dim() == 1 && x.dim() >= 1
        && x.shape[^1] == weight.shape[0];

    /// <summary>Rows of float32 x (rows × n) into y with float32 weights w (n).</summary>
    private static void Float32(float* x, float* w, float* y, int rows, int n, float eps)
    {
        for (var r = 0; r < rows; r++)
        {
            float* xr = x + (long)r * n, yr = y + (long)r * n;
            var scale = InverseRms(SumOfSquares(xr, n), n, eps);
            for (var i = 0; i < n; i++)
                yr[i] = w[i] * (xr[i] * scale);
        }
    }

    /// <summary>Rows of bfloat16 x (rows × n, bits) into y with bfloat16 weights w (n).</summary>
    private static void BFloat16(ushort* x, ushort* w, ushort* y, int rows, int n, float eps)
    {
        for (var r = 0; r < rows; r++)
        {
            ushort* xr = x + (long)r * n, yr = y + (long)r * n;
            double sum = 0;
            for (var i = 0; i < n; i++)
            {
                var v = Float(xr[i]);
                sum += v * v;
            }
            var scale = InverseRms(sum, n, eps);
            for (var i = 0; i < n; i++)
                yr[i] = Round(Float(w[i]) * Float(Round(Float(xr[i]) * scale)));
        }
    }

    // rsqrt(mean + eps) as libtorch's float rsqrt: 1 / sqrt in float32.
    private static float InverseRms(double sumOfSquares, int n, float eps) => 1f / MathF.Sqrt((float)(sumOfSquares / n) + eps);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SumOfSquares(float* x, int n)
    {
        var i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // float32 squares summed per lane in blocks of 64 values, each block's lanes then added in double
            for (; i + 64 <= n; i += 64)
            {
                var acc = Vector<float>.Zero;
                for (var j = i; j < i + 64; j += Vector<float>.Count)
                {
                    var v = Unsafe.ReadUnaligned<Vector<float>>(x + j);
                    acc += v * v;
                }
                sum += Vector.Sum(acc);
            }
        }
        for (; i < n; i++)
            sum += (double)x[i] * x[i];
        return sum;
    }

    private static float Float(ushort bfloat16) => BFloat16Bits.ToFloat(bfloat16);

    private static ushort Round(float value) => BFloat16Bits.Round(value);
}
