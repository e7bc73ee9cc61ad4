// apply_rotary_pos_emb (HF rotate_half layout) of a few rows in one pass: x·cos + rotate_half(x)·sin per head, with
// rotate_half(x) = cat(−x[d/2:], x[:d/2]). In a decode step transformers' form is sixteen libtorch operators per layer
// (unsqueeze, narrow, neg, cat, four products, two sums for q and k), each costing more in dispatch than its
// arithmetic on a few thousand numbers. Here the same operations on the same values in the same order, each result
// rounded to the data's dtype as libtorch rounds it (float32 as is; bfloat16 to nearest even after every product and
// after the sum), so the numbers are the operators' own.
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>Rotary position embedding of projected rows (…, T, H·D) with cos/sin (…, T, D), float32 or bfloat16.</summary>
public static unsafe class CpuRotary
{
    /// <summary>
    /// <paramref name="projected"/> (B, T, heads·D), contiguous, rotated per head with <paramref name="cos"/> and
    /// <paramref name="sin"/> (B, T, D), contiguous, all of one dtype (float32 or bfloat16) on the CPU: a new tensor of
    /// projected's shape, equal to apply_rotary_pos_emb on its (B, heads, T, D) view.
    /// </summary>
    public static Tensor Apply(Tensor projected, Tensor cos, Tensor sin, int heads)
    {
        long b = projected.shape[0], t = projected.shape[1], d = cos.shape[^1];
        if (projected.device_type != DeviceType.CPU || cos.device_type != DeviceType.CPU || sin.device_type != DeviceType.CPU
            || !projected.is_contiguous() || !cos.is_contiguous() || !sin.is_contiguous()
            || projected.dtype is not (ScalarType.Float32 or ScalarType.BFloat16) || cos.dtype != projected.dtype || sin.dtype != projected.dtype
            || projected.dim() != 3 || cos.dim() != 3 || d % 2 != 0 || projected.shape[2] != heads * d
            || cos.shape[0] != b || cos.shape[1] != t || !sin.shape.SequenceEqual(cos.shape))
            throw new ArgumentException($"CpuRotary takes contiguous CPU (B, T, heads·D) rows and (B, T, D) cos/sin of one dtype (float32 or bfloat16); got " +
                $"{projected.dtype} ({string.Join(", ", projected.shape)}), {heads} heads, cos {cos.dtype} ({string.Join(", ", cos.shape)}), sin {sin.dtype} ({string.Join(", ", sin.shape)})");
        var rotated = empty_like(projected);
        int rows = (int)(b * t), headDim = (int)d;
        if (projected.dtype == ScalarType.Float32)
            Float32((float*)TensorMemory.DataPointer(projected), (float*)TensorMemory.DataPointer(cos), (float*)TensorMemory.DataPointer(sin),
                (float*)TensorMemory.DataPointer(rotated), rows, heads, headDim);
        else
            BFloat16((ushort*)TensorMemory.DataPointer(projected), (ushort*)TensorMemory.DataPointer(cos), (ushort*)TensorMemory.DataPointer(sin),
                (ushort*)TensorMemory.DataPointer(rotated), rows, heads, headDim);
        return rotated;
    }

    private static void Float32(float* x, float* cos, float* sin, float* y, int rows, int heads, int d)
    {
        var half = d / 2;
        for (var r = 0; r < rows; r++)
        {
            float* c = cos + (long)r * d, s = sin + (long)r * d;
            for (var h = 0; h < heads; h++)
            {
                float* xi = x + ((long)r * heads + h) * d, yi = y + ((long)r * heads + h) * d;
                for (var i = 0; i < half; i++)
                {
                    float x1 = xi[i], x2 = xi[i + half];
                    float a = x1 * c[i], bb = -x2 * s[i];
                    yi[i] = a + bb;
                    float a2 = x2 * c[i + half], b2 = x1 * s[i + half];
                    yi[i + half] = a2 + b2;
                }
            }
        }
    }

    private static void BFloat16(ushort* x, ushort* cos, ushort* sin, ushort* y, int rows, int heads, int d)
    {
        var half = d / 2;
        for (var r = 0; r < rows; r++)
        {
            ushort* c = cos + (long)r * d, s = sin + (long)r * d;
            for (var h = 0; h < heads; h++)
            {
                ushort* xi = x + ((long)r * heads + h) * d, yi = y + ((long)r * heads + h) * d;
                for (var i = 0; i < half; i++)
                {
                    float x1 = Float(xi[i]), x2 = Float(xi[i + half]);
                    yi[i] = Round(Float(Round(x1 * Float(c[i]))) + Float(Round(-x2 * Float(s[i]))));
                    yi[i + half] = Round(Float(Round(x2 * Float(c[i + half]))) + Float(Round(x1 * Float(s[i + half]))));
                }
            }
        }
    }

    private static float Float(ushort bfloat16) => BFloat16Bits.ToFloat(bfloat16);

    private static ushort Round(float value) => BFloat16Bits.Round(value);
}
