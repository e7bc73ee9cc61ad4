namespace MultiModal.Clip;

/// <summary>
/// What one request asks of the model, already tokenized and preprocessed on the request thread: token ids
/// ([BOS] … [EOS], unpadded) and CHW pixel arrays. The worker batches many of these into one forward pass.
/// </summary>
public sealed record ClipWork(IReadOnlyList<int[]> TextIds, IReadOnlyList<float[]> Pixels)
{
    public int Size => TextIds.Count + Pixels.Count;
}

/// <summary>Unnormalised embeddings (get_text_features / get_image_features), in the order of the work item.</summary>
public sealed record ClipWorkResult(float[][] TextEmbeddings, float[][] ImageEmbeddings);
