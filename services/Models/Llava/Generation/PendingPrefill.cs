using static TorchSharp.torch;

namespace MultiModal.Models.Llava.Generation;

/// <summary>
/// The part of a prompt's prefill not run yet, done in units so that other generations can take decode steps between
/// them: the vision tower a few layers at a time (as many as cost about one chunk, see
/// <see cref="LlavaForConditionalGeneration.VisionLayersWorth"/>; the layers after the feature layer never run), then
/// the merged prompt in chunks of at most <see cref="ChunkTokens"/> positions. Its tensors live on the model's device
/// outside any dispose scope until the prefill is done or the sequence ends.
/// </summary>
internal sealed class PendingPrefill : IDisposable
{
    private Tensor? _inputIds, _pixelValues;    // (1, T) and (I, 3, H, W) until used
    private Tensor? _visionHidden;              // the tower's hidden state after _visionLayersDone layers, (I, 1+N, Dv)
    private int _visionLayersDone;
    private Tensor? _embeds;                    // the merged prompt (1, L, C)
    private long _done;                         // its positions already in the cache

    public PendingPrefill(Tensor input_ids, Tensor? pixel_values, int chunkTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1, nameof(chunkTokens));
        _inputIds = input_ids.DetachFromDisposeScope();
        _pixelValues = pixel_values?.DetachFromDisposeScope();
        ChunkTokens = chunkTokens;
    }

    /// <summary>Most prompt positions one unit runs.</summary>
    public int ChunkTokens { get; }

    /// <summary>
    /// Runs the next unit on <paramref name="cache"/>: some vision layers, or one chunk (a text-only prompt starts with
    /// a chunk). Returns the last position's logits (1, V) once the whole prompt is in the cache, else null.
    /// </summary>
    public Tensor? RunNext(LlavaForConditionalGeneration model, LlamaKvCache cache)
    {
        if (_embeds is null)
        {
            if (_pixelValues is not null || _visionHidden is not null)
            {
                RunVisionLayers(model);
                return null;
            }
            _embeds = model.EmbedPromptWithFeatures(_inputIds!, null).DetachFromDisposeScope();
            DisposeInputs();
        }
        var length = _embeds.shape[1];
        var take = Math.Min(ChunkTokens, length - _done);
        Tensor logits;
        using (var chunk = _embeds.narrow(1, _done, take))
            logits = model.PrefillLogits(chunk, cache);
        _done += take;
        if (_done < length)
        {
            logits.Dispose();
            return null;
        }
        Dispose();
        return logits;
    }

    // One vision unit; the last one also projects the features and merges the prompt.
    private void RunVisionLayers(LlavaForConditionalGeneration model)
    {
        if (_visionHidden is null)
        {
            _visionHidden = model.VisionEmbed(_pixelValues!).DetachFromDisposeScope();
            _pixelValues!.Dispose();
            _pixelValues = null;
        }
        var target = model.VisionFeatureLayerIndex;
        var layers = Math.Min(target - _visionLayersDone, model.VisionLayersWorth(ChunkTokens, (int)_visionHidden.shape[0]));
        if (layers > 0)
        {
            var next = model.VisionTower.ForwardEncoderLayers(_visionHidden, _visionLayersDone, layers).DetachFromDisposeScope();
            _visionHidden.Dispose();
            _visionHidden = next;
            _visionLayersDone += layers;
        }
        if (_visionLayersDone < target) return;
        using (var selected = model.SelectFeatures(_visionHidden))
            _embeds = model.EmbedPromptWithFeatures(_inputIds!, selected).DetachFromDisposeScope();
        DisposeInputs();
    }

    private void DisposeInputs()
    {
        _inputIds?.Dispose();
        _pixelValues?.Dispose();
        _visionHidden?.Dispose();
        _inputIds = _pixelValues = _visionHidden = null;
    }

    public void Dispose()
    {
        DisposeInputs();
        _embeds?.Dispose();
        _embeds = null;
    }
}
