using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Runtime;

/// <summary>
/// A float32 weight matrix W (n × k) in oneMKL's packed GEMM layout, for y = x·Wᵀ with any number of rows of x.
/// </summary>
/// <remarks>
/// libtorch's linear calls oneMKL's sgemm, which re-packs W into its blocked layout on every call. With few rows (a CLIP
/// forward at batch 1 is 50 rows) that packing costs as much as the product: at 50×768×3072 on an AMD Zen 5, 2 threads,
/// 1.21 ms per call through functional.linear against 0.71 ms with W packed once (cblas_sgemm_pack, then
/// cblas_sgemm_compute), 1.41–1.71× at batch 1's shapes, 1.05–1.17× at batch 8's, 1.03–1.06× at batch 32's
/// (tests/Bench/README.md, "Packed weights"). The same arithmetic as sgemm (bit-equal at k = 768 in that probe); the pack is
/// a second copy of W in memory. libtorch_cpu links oneMKL statically and exports these entry points.
/// </remarks>
public sealed unsafe class MklPackedMatrix : IDisposable
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112, Packed = 151, BMatrix = 162;
    private float* _packed;

    private MklPackedMatrix(float* packed, int n, int k)
    {
        _packed = packed;
        N = n;
        K = k;
    }

    /// <summary>Output features (rows of W).</summary>
    public int N { get; }

    /// <summary>Input features (columns of W).</summary>
    public int K { get; }

    /// <summary>Whether this libtorch exports oneMKL's packed GEMM (builds without oneMKL do not).</summary>
    public static bool Available => Exports.Value;

    /// <summary>Packs <paramref name="weight"/> (n, k), float32 on the CPU; W itself is not kept.</summary>
    public static MklPackedMatrix Pack(Tensor weight)
    {
        if (weight.dim() != 2 || weight.dtype != ScalarType.Float32 || weight.device_type != DeviceType.CPU)
            throw new ArgumentException($"Packs a 2-D float32 CPU matrix; got {weight.dtype} {weight.device_type} ({string.Join(", ", weight.shape)}).");
        int n = checked((int)weight.shape[0]), k = checked((int)weight.shape[1]);
        using var contiguous = weight.contiguous();
        var bytes = cblas_sgemm_pack_get_size(BMatrix, 1, n, k);
        var packed = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        cblas_sgemm_pack(RowMajor, BMatrix, Trans, 1, n, k, 1f, (float*)TensorMemory.DataPointer(contiguous), k, packed);
        return new MklPackedMatrix(packed, n, k);
    }

    /// <summary>input (…, k) float32 on the CPU → input·Wᵀ + bias, (…, n).</summary>
    public Tensor Multiply(Tensor input, Tensor? bias)
    {
        ObjectDisposedException.ThrowIf(_packed is null, this);
        using var x = input.contiguous();
        var m = checked((int)(x.numel() / K));
        // C starts as the bias and takes beta = 1, as addmm does for functional.linear.
        var y = bias is null ? empty([.. input.shape[..^1], N]) : bias.expand([.. input.shape[..^1], N]).contiguous();
        cblas_sgemm_compute(RowMajor, NoTrans, Packed, m, N, K, (float*)TensorMemory.DataPointer(x), K, _packed, N,
            bias is null ? 0f : 1f, (float*)TensorMemory.DataPointer(y), N);
        return y;
    }

    public void Dispose()
    {
        if (_packed is null) return;
        NativeMemory.AlignedFree(_packed);
        _packed = null;
    }

    private static readonly Lazy<bool> Exports = new(() =>
        NativeLibrary.TryLoad("libtorch_cpu", typeof(MklPackedMatrix).Assembly, null, out var library)
        && NativeLibrary.TryGetExport(library, "cblas_sgemm_pack_get_size", out _)
        && NativeLibrary.TryGetExport(library, "cblas_sgemm_pack", out _)
        && NativeLibrary.TryGetExport(library, "cblas_sgemm_compute", out _));

    [DllImport("libtorch_cpu")]
    private static extern nuint cblas_sgemm_pack_get_size(int identifier, int m, int n, int k);

    [DllImport("libtorch_cpu")]
    private static extern void cblas_sgemm_pack(int layout, int identifier, int trans, int m, int n, int k, float alpha,
        float* src, int ld, float* dest);

    [DllImport("libtorch_cpu")]
    private static extern void cblas_sgemm_compute(int layout, int transa, int transb, int m, int n, int k, float* a,
        int lda, float* b, int ldb, float beta, float* c, int ldc);
}
