using System.Collections.Concurrent;

namespace MultiModal.Clip;

/// <summary>
/// Reused per-image pixel buffers (3 × 224 × 224 floats = 588 KiB each, large-object-heap sized): the request thread
/// preprocesses an image into a rented buffer, the model thread copies it once into the batch tensor and gives it
/// back. Without it every image allocated a fresh LOH array, collected only by full GCs. Buffers of any other length
/// are neither kept nor handed out; at most <see cref="MaxKept"/> are kept.
/// </summary>
public static class ClipPixelPool
{
    /// <summary>Enough for two full batches in flight (one running, one being decoded) at the default MaxBatchSize.</summary>
    public const int MaxKept = 128;

    private static readonly ConcurrentBag<float[]> Kept = [];

    /// <summary>A buffer of exactly <paramref name="length"/> floats, old contents not cleared.</summary>
    public static float[] Rent(int length) =>
        Kept.TryTake(out var buffer) && buffer.Length == length ? buffer : new float[length];

    /// <summary>Hands buffers back once nothing reads them any more.</summary>
    public static void Return(float[] buffer)
    {
        if (Kept.Count < MaxKept)
            Kept.Add(buffer);
    }
}
