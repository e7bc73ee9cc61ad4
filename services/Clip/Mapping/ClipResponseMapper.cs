using MultiModal.Contracts.Clip.V1;

namespace MultiModal.Clip.Mapping;

/// <summary>Work results → wire messages.</summary>
public static class ClipResponseMapper
{
    public static Embedding ToEmbedding(float[] values, bool normalize) =>
        new() { Values = { normalize ? ClipScoring.Normalize(values) : values } };

    public static EmbedTextsResponse ToEmbedTexts(ClipWorkResult result, IReadOnlyList<ClipRequestMapper.TokenizedText> texts, bool normalize) => new()
    {
        Embeddings = { result.TextEmbeddings.Select(e => ToEmbedding(e, normalize)) },
        TokenCounts = { texts.Select(t => (uint)t.Ids.Length) },
        Truncated = { texts.Select(t => t.Truncated) },
    };

    public static EmbedImagesResponse ToEmbedImages(ClipWorkResult result, bool normalize) => new()
    {
        Embeddings = { result.ImageEmbeddings.Select(e => ToEmbedding(e, normalize)) },
    };

    /// <summary>As CLIPModel.forward: logit = exp(logit_scale)·cos(image, label text); probability = softmax over labels.</summary>
    public static ClassifyResponse ToClassify(ClipWorkResult result, IReadOnlyList<string> labels, double logitScale)
    {
        var image = result.ImageEmbeddings[0];
        var logits = result.TextEmbeddings.Select(text => logitScale * ClipScoring.Cosine(image, text)).ToList();
        var probabilities = ClipScoring.Softmax(logits);
        return new ClassifyResponse
        {
            Scores = { labels.Select((label, i) => new LabelScore { Label = label, Logit = (float)logits[i], Probability = (float)probabilities[i] }) },
        };
    }

    /// <summary>Scores every candidate against the query, best first (stable for ties), cut to top_k when set.</summary>
    public static RankResponse ToRank(ClipWorkResult result, IReadOnlyList<(bool IsText, int Index)> order, uint topK, double logitScale)
    {
        float[] Vector((bool IsText, int Index) at) => at.IsText ? result.TextEmbeddings[at.Index] : result.ImageEmbeddings[at.Index];
        var query = Vector(order[0]);
        var cosines = order.Skip(1).Select(at => ClipScoring.Cosine(query, Vector(at))).ToList();
        var probabilities = ClipScoring.Softmax(cosines.Select(c => logitScale * c).ToList());
        var ranked = cosines
            .Select((cosine, i) => new RankedCandidate
            {
                Index = (uint)i, Cosine = (float)cosine, Logit = (float)(logitScale * cosine), Probability = (float)probabilities[i],
            })
            .OrderByDescending(c => c.Cosine)
            .Take(topK == 0 ? int.MaxValue : (int)topK);
        return new RankResponse { Ranked = { ranked } };
    }

    public static GetModelInfoResponse ToModelInfo(ClipRunner runner)
    {
        var engine = runner.Engine;
        return new GetModelInfoResponse
        {
            ModelName = runner.ModelName,
            EmbeddingSize = (uint)engine.Config.ProjectionDim,
            ImageSize = (uint)engine.Processor.ImageSize,
            ContextLength = (uint)engine.Tokenizer.ContextLength,
            LogitScale = (float)engine.LogitScale,
            Device = engine.Device.ToString(),
            Dtype = Models.Runtime.TorchRuntime.Name(engine.DType),
            MaxBatchSize = (uint)runner.Options.MaxBatchSize,
            MaxQueueLength = (uint)runner.Options.MaxQueueLength,
            Stats = runner.Stats,
        };
    }
}
