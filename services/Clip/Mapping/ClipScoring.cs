namespace MultiModal.Clip.Mapping;

/// <summary>CLIP's similarity math on embeddings: L2 normalisation, cosine, logit = exp(logit_scale)·cosine, softmax.</summary>
public static class ClipScoring
{
    public static float[] Normalize(float[] v)
    {
        double norm = 0;
        foreach (var x in v) norm += (double)x * x;
        // F.normalize's eps: a zero vector stays zero instead of becoming NaN.
        var scale = 1.0 / Math.Max(Math.Sqrt(norm), 1e-12);
        return v.Select(x => (float)(x * scale)).ToArray();
    }

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / (Math.Max(Math.Sqrt(na), 1e-12) * Math.Max(Math.Sqrt(nb), 1e-12));
    }

    /// <summary>Numerically stable softmax in double precision.</summary>
    public static double[] Softmax(IReadOnlyList<double> logits)
    {
        var max = logits.Max();
        var exps = logits.Select(l => Math.Exp(l - max)).ToArray();
        var sum = exps.Sum();
        return exps.Select(e => e / sum).ToArray();
    }
}
