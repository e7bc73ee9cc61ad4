using Google.Protobuf;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.Models.Clip;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Integration.Clip;

/// <summary>Embeddings, classification and ranking through the gateway equal the in-process model's.</summary>
public sealed class ClipThroughGatewayTests(ClipFleetFixture fleet) : IClassFixture<ClipFleetFixture>
{
    // Same model and inputs in two processes on the same libtorch: only batch composition may reorder sums.
    private const double Atol = 1e-5;
    private static readonly string[] Texts = ["a photo of a cat", "A photo of a DOG.", "a diagram", ""];
    private static readonly string[] ImageFiles = ["gradient_shapes_300x200.png", "gray_rings_128x160.jpg", "rgba_checker_96x96.png"];

    [Fact]
    public async Task EmbedTexts_ThroughGateway_EqualsInProcessModel()
    {
        var response = await fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { Texts } }).ResponseAsync.DefaultTimeout();

        var expected = InProcess.TextFeatures(Texts);
        Assert.Equal(Texts.Length, response.Embeddings.Count);
        for (var i = 0; i < Texts.Length; i++)
            AssertClose(expected[i], response.Embeddings[i].Values, $"text {i}");
        var goldenMask = new GoldenTensors(TestPaths.Fixture("tiny-clip", "golden.safetensors"))["attention_mask"];
        for (var i = 0; i < Texts.Length; i++)
            Assert.Equal((uint)goldenMask[i].sum().item<long>(), response.TokenCounts[i]);
        Assert.All(response.Truncated, Assert.False);
    }

    [Fact]
    public async Task EmbedTexts_GoldenTexts_MatchTransformersTextEmbeds()
    {
        var golden = new GoldenTensors(TestPaths.Fixture("tiny-clip", "golden.safetensors"))["text_embeds"];

        var response = await fleet.Client.EmbedTextsAsync(new EmbedTextsRequest { Texts = { Texts } }).ResponseAsync.DefaultTimeout();

        for (var i = 0; i < Texts.Length; i++)
            AssertClose(golden[i].data<float>().ToArray(), response.Embeddings[i].Values, $"text {i}", atol: 1e-4);
    }

    [Fact]
    public async Task EmbedImages_ThroughGateway_EqualsInProcessModelAndNormalizes()
    {
        var request = new EmbedImagesRequest { Images = { ImageFiles.Select(LoadImage) } };
        var raw = await fleet.Client.EmbedImagesAsync(request).ResponseAsync.DefaultTimeout();
        request.Normalize = true;
        var normalized = await fleet.Client.EmbedImagesAsync(request).ResponseAsync.DefaultTimeout();

        var expected = InProcess.ImageFeatures(ImageFiles);
        for (var i = 0; i < ImageFiles.Length; i++)
        {
            AssertClose(expected[i], raw.Embeddings[i].Values, ImageFiles[i]);
            Assert.Equal(1.0, Math.Sqrt(normalized.Embeddings[i].Values.Sum(v => (double)v * v)), 5);
        }
    }

    [Fact]
    public async Task Classify_Template_ProbabilitiesAreSoftmaxOfScaledCosines()
    {
        var request = new ClassifyRequest { Image = LoadImage(ImageFiles[0]), Labels = { "cat", "dog", "diagram" }, Template = "a photo of a {}" };

        var response = await fleet.Client.ClassifyAsync(request).ResponseAsync.DefaultTimeout();

        var image = InProcess.ImageFeatures([ImageFiles[0]])[0];
        var texts = InProcess.TextFeatures(["a photo of a cat", "a photo of a dog", "a photo of a diagram"]);
        var logits = texts.Select(t => InProcess.LogitScale * Cosine(image, t)).ToArray();
        var exps = logits.Select(l => Math.Exp(l - logits.Max())).ToArray();
        Assert.Equal(["cat", "dog", "diagram"], response.Scores.Select(s => s.Label));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(logits[i], response.Scores[i].Logit, 3);
            Assert.Equal(exps[i] / exps.Sum(), response.Scores[i].Probability, 4);
        }
        Assert.Equal(1.0, response.Scores.Sum(s => (double)s.Probability), 4);
    }

    [Fact]
    public async Task Rank_TextQueryAgainstMixedCandidates_SortedByCosine()
    {
        var request = new RankRequest
        {
            Query = new RankItem { Text = "a diagram" },
            Candidates = { new RankItem { Text = "a photo of a cat" }, new RankItem { Image = LoadImage(ImageFiles[1]) }, new RankItem { Text = "a diagram" } },
        };

        var response = await fleet.Client.RankAsync(request).ResponseAsync.DefaultTimeout();

        Assert.Equal(3, response.Ranked.Count);
        Assert.Equal(2u, response.Ranked[0].Index); // identical text: cosine 1
        Assert.Equal(1.0, response.Ranked[0].Cosine, 4);
        Assert.True(response.Ranked.Zip(response.Ranked.Skip(1)).All(p => p.First.Cosine >= p.Second.Cosine));
    }

    [Fact]
    public async Task GetModelInfo_TinyClip_DescribesModel()
    {
        var info = await fleet.Client.GetModelInfoAsync(new GetModelInfoRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal("model", info.ModelName);
        Assert.Equal(32u, info.EmbeddingSize);
        Assert.Equal(32u, info.ImageSize);
        Assert.Equal(77u, info.ContextLength);
        Assert.Equal(14.086, info.LogitScale, 2);
        Assert.Equal("float32", info.Dtype);
    }

    internal static Image LoadImage(string file) =>
        new() { Data = ByteString.CopyFrom(File.ReadAllBytes(TestPaths.Fixture("tiny-clip", "images", file))) };

    private static void AssertClose(float[] expected, IList<float> actual, string what, double atol = Atol)
    {
        Assert.Equal(expected.Length, actual.Count);
        var worst = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
        BoundLog.AtMost(what, worst, atol);
        Assert.True(worst <= atol, $"{what}: max abs diff {worst} > {atol}");
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>The plain model in this process: tokenizer → get_text_features; decode → processor → get_image_features.</summary>
    private static class InProcess
    {
        private static readonly Lazy<(ClipModel Model, ClipTokenizer Tokenizer, ClipImageProcessor Processor)> Loaded = new(() => (
            ClipCheckpoint.Load(ClipFleetFixture.ModelFolder, CPU, ScalarType.Float32),
            ClipTokenizer.FromFolder(ClipFleetFixture.ModelFolder),
            ClipImageProcessor.FromFolder(ClipFleetFixture.ModelFolder)));

        public static double LogitScale => Loaded.Value.Model.LogitScaleExp();

        public static float[][] TextFeatures(IReadOnlyList<string> texts)
        {
            var (model, tokenizer, _) = Loaded.Value; // loaded outside the scope below, which would dispose its weights
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            return texts.Select(text =>
            {
                var ids = tokenizer.ToPaddedIds(tokenizer.Encode(text), out var mask);
                return model.GetTextFeatures(tensor(ids, [1, ids.Length]), tensor(mask, [1, mask.Length])).data<float>().ToArray();
            }).ToArray();
        }

        public static float[][] ImageFeatures(IReadOnlyList<string> files)
        {
            var (model, _, processor) = Loaded.Value;
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            return files.Select(file =>
            {
                var decoded = ImageDecoder.Decode(File.ReadAllBytes(TestPaths.Fixture("tiny-clip", "images", file)), new ImageLimits());
                var pixels = processor.Preprocess(decoded);
                return model.GetImageFeatures(tensor(pixels, [1, 3, processor.ImageSize, processor.ImageSize])).data<float>().ToArray();
            }).ToArray();
        }
    }
}
