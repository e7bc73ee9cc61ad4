using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.Models.Llava;
using MultiModal.ShapesWorld;
using static TorchSharp.torch;

namespace MultiModal.Training.Vision;

/// <summary>
/// Question-answer batches of the shapes world in the LLaVA-1.5 template, as the Vision service prompts:
/// <c>&lt;s&gt; USER: &lt;image&gt;\n{question} ASSISTANT: {answer}&lt;/s&gt;</c>, right-padded with &lt;pad&gt;, and the
/// targets for the merged sequence (image rows in place of &lt;image&gt;): the answer tokens and the closing &lt;/s&gt;,
/// every other position <see cref="IgnoreIndex"/>.
/// </summary>
public sealed class VisionWorldBatches(LlamaTokenizer tokenizer, ClipImageProcessor processor, LlavaConfig config, int seed, int batchSize)
{
    public const long IgnoreIndex = -100;

    /// <summary>Pixels (B, 3, S, S), input_ids (B, T) and targets (B, L) over the merged positions (L = T − 1 + N).</summary>
    public sealed record Batch(Tensor PixelValues, Tensor InputIds, Tensor Targets);

    private readonly Dictionary<(string, string), (int[] Ids, int AnswerStart)> _encoded = [];

    /// <summary>Step <paramref name="step"/>'s batch: scenes step·B … step·B + B − 1 of the seed's set, one question each.</summary>
    public Batch At(int step)
    {
        var scenes = SceneSampler.Scenes(seed, (long)step * batchSize, batchSize).ToList();
        var pick = new Random(unchecked(seed * 7_919 + step * 104_729 + 17));   // which question each scene gets (a function of seed and step)
        var examples = scenes.Select(s =>
        {
            var questions = WorldQuestions.All(s);
            return questions[pick.Next(questions.Count)];
        }).ToList();
        return Build(scenes, examples);
    }

    /// <summary>A batch of the given scenes, each with its question and answer.</summary>
    public Batch Build(IReadOnlyList<WorldScene> scenes, IReadOnlyList<WorldQuestion> examples)
    {
        var encoded = examples.Select(e => Encode(e.Question, e.Answer)).ToList();
        var t = encoded.Max(e => e.Ids.Length);
        var n = config.ImageSequenceLength;
        var l = t - 1 + n;
        var ids = new long[scenes.Count * t];
        var targets = new long[scenes.Count * l];
        Array.Fill(ids, config.PadTokenId ?? 0);
        Array.Fill(targets, IgnoreIndex);
        for (var row = 0; row < encoded.Count; row++)
        {
            var (tokens, answerStart) = encoded[row];
            for (var i = 0; i < tokens.Length; i++)
                ids[row * t + i] = tokens[i];
            // Token i (after the single <image> token) sits at merged position i − 1 + N; the position before predicts it.
            for (var i = answerStart; i < tokens.Length; i++)
                targets[row * l + i - 1 + n - 1] = tokens[i];
        }
        return new Batch(Pixels(scenes), tensor(ids, [scenes.Count, t]), tensor(targets, [scenes.Count, l]));
    }

    /// <summary>Scenes rendered at the tower's size and preprocessed as the service does: (B, 3, S, S).</summary>
    public Tensor Pixels(IReadOnlyList<WorldScene> scenes)
    {
        var size = processor.ImageSize;
        var plane = 3 * size * size;
        var data = new float[scenes.Count * plane];
        for (var i = 0; i < scenes.Count; i++)
            processor.PreprocessInto(new DecodedImage(size, size, SceneRenderer.RenderRgb(scenes[i], size)), data.AsSpan(i * plane, plane));
        return tensor(data, [scenes.Count, 3, size, size]);
    }

    // The prompt's ids are a prefix of the whole text's (the answer starts with its own "▁" piece); the answer's ids
    // follow, then </s>.
    private (int[] Ids, int AnswerStart) Encode(string question, string answer)
    {
        if (_encoded.TryGetValue((question, answer), out var cached))
            return cached;
        var prompt = LlavaPrompt.Build(question);
        var promptIds = tokenizer.Encode(prompt);
        var all = tokenizer.Encode(prompt + " " + answer);
        if (all.Length <= promptIds.Length || !all.AsSpan(0, promptIds.Length).SequenceEqual(promptIds))
            throw new InvalidOperationException($"The tokens of '{prompt}' are not a prefix of those of '{prompt} {answer}'.");
        if (promptIds.Count(id => id == config.ImageTokenIndex) != 1 || promptIds[0] != tokenizer.BosTokenId)
            throw new InvalidOperationException($"'{prompt}' must encode to <s> and one <image> token.");
        (int[] Ids, int AnswerStart) encoded = ([.. all, tokenizer.EosTokenId], promptIds.Length);
        _encoded[(question, answer)] = encoded;
        return encoded;
    }
}
