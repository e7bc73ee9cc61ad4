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
        if (!Supports(projected, cos, sin, heads))
            throw new ArgumentException($"CpuRotary takes contiguous CPU (B, T, heads·D) rows and (B, T, D) cos/sin of one dtype (float32 or bfloat16); got " +
                $"{projected.dtype} ({string.Join(", ", projected.shape)}), {heads} heads, cos {cos.dtype} ({string.Join(", ", cos.shape)}), sin {sin.dtype} ({string.Join(", ", sin.shape)})");
        long b = projected.shape[0], t = projected.shape[1], d = cos.shape[^1];
        var rotated = empty_like(projected);
        int rows = (int)(b * t), headDim = (int)d;
        if (projected.dtype == ScalarType.Float32)
            Rotate<float, Float32Data>((float*)TensorMemory.DataPointer(projected), (float*)TensorMemory.DataPointer(cos),
                (float*)TensorMemory.DataPointer(sin), (float*)TensorMemory.DataPointer(rotated), rows, heads, headDim);
        else
            Rotate<ushort, BFloat16Data>((ushort*)TensorMemory.DataPointer(projected), (ushort*)TensorMemory.DataPointer(cos),
                (ushort*)TensorMemory.DataPointer(sin), (ushort*)TensorMemory.DataPointer(rotated), rows, heads, headDim);
        return rotated;
    }

    /// <summary>Whether <see cref="Apply"/> takes these tensors.</summary>
    public static bool Supports(Tensor projected, Tensor cos, Tensor sin, long heads) =>
        projected.device_type == DeviceType.CPU && cos.device_type == DeviceType.CPU && sin.device_type == DeviceType.CPU
        && projected.is_contiguous() && cos.is_contiguous() && sin.is_contiguous()
        && projected.dtype is ScalarType.Float32 or ScalarType.BFloat16 && cos.dtype == projected.dtype && sin.dtype == projected.dtype
        && projected.dim() == 3 && cos.dim() == 3 && cos.shape[^1] % 2 == 0 && projected.shape[2] == heads * cos.shape[^1]
        && cos.shape[0] == projected.shape[0] && cos.shape[1] == projected.shape[1] && sin.shape.SequenceEqual(cos.shape);

    // Per head: y[:d/2] = x[:d/2]·c[:d/2] + (−x[d/2:])·s[:d/2], y[d/2:] = x[d/2:]·c[d/2:] + x[:d/2]·s[d/2:], each product
    // and the sum held in the data's dtype as a libtorch operator would hold it.
    private static void Rotate<T, TData>(T* x, T* cos, T* sin, T* y, int rows, int heads, int d)
        where T : unmanaged where TData : IRotaryData<T>
    {
        var half = d / 2;
        for (var r = 0; r < rows; r++)
        {
            T* c = cos + (long)r * d, s = sin + (long)r * d;
            for (var h = 0; h < heads; h++)
            {
                T* xi = x + ((long)r * heads + h) * d, yi = y + ((long)r * heads + h) * d;
                for (var i = 0; i < half; i++)
                {
                    float x1 = TData.Load(xi[i]), x2 = TData.Load(xi[i + half]);
                    yi[i] = TData.Store(TData.Held(x1 * TData.Load(c[i])) + TData.Held(-x2 * TData.Load(s[i])));
                    yi[i + half] = TData.Store(TData.Held(x2 * TData.Load(c[i + half])) + TData.Held(x1 * TData.Load(s[i + half])));
                }
            }
        }
    }

    // How one dtype's elements are read, held and written in float32 arithmetic.
    private interface IRotaryData<T> where T : unmanaged
    {
        static abstract float Load(T value);
        /// <summary>A float32 result as a tensor of this dtype holds it (rounded to it).</summary>
        static abstract float Held(float value);
        static abstract T Store(float value);
    }

    private readonly struct Float32Data : IRotaryData<float>
    {
        public static float Load(float value) => value;
        public static float Held(float value) => value;
        public static float Store(float value) => value;
    }

    private readonly struct BFloat16Data : IRotaryData<ushort>
    {
        public static float Load(ushort value) => BFloat16Bits.ToFloat(value);
        public static float Held(float value) => BFloat16Bits.ToFloat(BFloat16Bits.Round(value));
        public static ushort Store(float value) => BFloat16Bits.Round(value);
    }
}
