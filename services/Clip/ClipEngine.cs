using MultiModal.Models.Clip;
using MultiModal.Models.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Clip;

/// <summary>The loaded model with its tokenizer and image processor. <see cref="RunBatch"/> is called on one thread.</summary>
public sealed class ClipEngine : IDisposable
{
    private readonly ClipModel _model;

    public ClipTokenizer Tokenizer { get; }
    public ClipImageProcessor Processor { get; }
    public ClipConfig Config => _model.Config;
    public Device Device { get; }
    public ScalarType DType { get; }
    public double LogitScale { get; }

    public ClipEngine(string folder, string device, string dtype)
    {
        Device = TorchRuntime.ResolveDevice(device);
        // auto: bf16 on CPUs with native bf16 where a bf16 product measures faster (Bf16SpeedProbe). On an AMD Zen 5
        // (avx512_bf16, 2 threads; tests/Bench/README.md, "float32 or bfloat16: CLIP and Stable Diffusion") forward passes
        // ran 1.4-2.0x faster, embeddings' cosine to float32 >= 0.99994; on an Intel Xeon with avx512_bf16, 0.57-0.69x.
        DType = TorchRuntime.ResolveDType(dtype, Device, bf16OnNativeCpus: true);
        _model = ClipCheckpoint.Load(folder, Device, DType);
        _model.PackForInference();                   // float32 on the CPU only; a no-op otherwise
        Tokenizer = ClipTokenizer.FromFolder(folder);
        Processor = ClipImageProcessor.FromFolder(folder);
        LogitScale = _model.LogitScaleExp();
    }

    /// <summary>
    /// One forward pass per tower over every request of the batch. Texts are padded only to the longest text of the
    /// batch: with CLIP's causal mask no position attends to later ones, so the pooled end-of-text state (and every
    /// real token's state) equals the one padded to 77.
    /// </summary>
    public IReadOnlyList<ClipWorkResult> RunBatch(IReadOnlyList<ClipWork> batch)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var texts = batch.SelectMany(w => w.TextIds).ToList();
        var pixels = batch.SelectMany(w => w.Pixels).ToList();
        var textEmbeddings = texts.Count == 0 ? [] : EmbedTexts(texts);
        var imageEmbeddings = pixels.Count == 0 ? [] : EmbedImages(pixels);

        var results = new List<ClipWorkResult>(batch.Count);
        int t = 0, i = 0;
        foreach (var work in batch)
        {
            results.Add(new ClipWorkResult(textEmbeddings[t..(t + work.TextIds.Count)], imageEmbeddings[i..(i + work.Pixels.Count)]));
            t += work.TextIds.Count;
            i += work.Pixels.Count;
        }
        return results;
    }

    private float[][] EmbedTexts(List<int[]> texts)
    {
        var length = texts.Max(ids => ids.Length);
        var ids = new long[texts.Count * length];
        var mask = new long[texts.Count * length];
        Array.Fill(ids, Tokenizer.PadTokenId);
        for (var row = 0; row < texts.Count; row++)
            for (var col = 0; col < texts[row].Length; col++)
            {
                ids[row * length + col] = texts[row][col];
                mask[row * length + col] = 1;
            }
        var input_ids = tensor(ids, [texts.Count, length]).to(Device);                         // (B, T)
        var attention_mask = tensor(mask, [texts.Count, length]).to(Device);                   // (B, T)
        return Rows(_model.GetTextFeatures(input_ids, attention_mask));                       // (B, D)
    }

    // One copy per image, from its pooled buffer straight into the batch tensor's memory (no flat array between).
    private float[][] EmbedImages(List<float[]> pixels)
    {
        var size = Processor.ImageSize;
        var plane = 3 * size * size;
        var pixel_values = empty([pixels.Count, 3, size, size], ScalarType.Float32);              // (B, 3, S, S)
        var memory = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(pixel_values.bytes);
        for (var n = 0; n < pixels.Count; n++)
        {
            pixels[n].AsSpan(0, plane).CopyTo(memory.Slice(n * plane, plane));
            ClipPixelPool.Return(pixels[n]);
        }
        return Rows(_model.GetImageFeatures(pixel_values.to(DType, Device)));                  // (B, D)
    }

    private static float[][] Rows(Tensor features)
    {
        var cpu = features.to(ScalarType.Float32, CPU).contiguous();
        var width = (int)cpu.shape[1];
        var all = cpu.data<float>().ToArray();
        return Enumerable.Range(0, (int)cpu.shape[0]).Select(r => all[(r * width)..((r + 1) * width)]).ToArray();
    }

    public void Dispose() => _model.Dispose();
}
