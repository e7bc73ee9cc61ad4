using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Testing;
using Xunit;
using ClipV1 = MultiModal.Contracts.Clip.V1;
using CommonV1 = MultiModal.Contracts.Common.V1;
using DiffusionV1 = MultiModal.Contracts.Diffusion.V1;
using VisionV1 = MultiModal.Contracts.Vision.V1;

namespace MultiModal.Tests.Integration.Cli;

/// <summary>
/// Each <c>mm</c> command run as a person runs it in a script (stdout a pipe), against the whole fleet; what it
/// prints is checked against the service's own answer to the same request.
/// </summary>
[Collection(CliFleetCollection.Name)]
public sealed class MmCommandTests(CliFleetFixture fleet)
{
    [Fact]
    public async Task Embed_TextsWithNormalize_PrintsOneJsonLinePerTextInOrder()
    {
        var result = await fleet.MmAsync("embed", "a red circle", "a blue square", "--normalize").DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var expected = await fleet.ClipClient.EmbedTextsAsync(new ClipV1.EmbedTextsRequest { Texts = { "a red circle", "a blue square" }, Normalize = true })
            .ResponseAsync.DefaultTimeout();
        for (var i = 0; i < 2; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(i == 0 ? "a red circle" : "a blue square", json.RootElement.GetProperty("text").GetString());
            var values = json.RootElement.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal(expected.Embeddings[i].Values, values);
            Assert.Equal(1.0, Math.Sqrt(values.Sum(v => (double)v * v)), 3);
        }
    }

    [Fact]
    public async Task Embed_ImageFile_PrintsItsEmbedding()
    {
        var result = await fleet.MmAsync("embed", "--image", CliFleetFixture.ClipImage).DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout.Trim());
        Assert.Equal(CliFleetFixture.ClipImage, json.RootElement.GetProperty("image").GetString());
        var expected = await fleet.ClipClient.EmbedImagesAsync(new ClipV1.EmbedImagesRequest { Images = { Image(CliFleetFixture.ClipImage) } })
            .ResponseAsync.DefaultTimeout();
        Assert.Equal(expected.Embeddings[0].Values, json.RootElement.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()));
    }

    [Fact]
    public async Task Classify_ImageAndLabels_PrintsTableMostProbableFirst()
    {
        string[] labels = ["red circle", "blue square", "cat"];

        var result = await fleet.MmAsync(["classify", CliFleetFixture.ClipImage, .. labels]).DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        var expected = await fleet.ClipClient.ClassifyAsync(new ClipV1.ClassifyRequest { Image = Image(CliFleetFixture.ClipImage), Labels = { labels } })
            .ResponseAsync.DefaultTimeout();
        var byProbability = expected.Scores.OrderByDescending(s => s.Probability).ToArray();
        var rows = byProbability.Select(s => Array.FindIndex(Lines(result.Stdout), l => l.Contains(s.Label, StringComparison.Ordinal))).ToArray();
        Assert.All(rows, row => Assert.True(row >= 0, result.Stdout));
        Assert.Equal(rows.Order(), rows);
        Assert.Contains(byProbability[0].Probability.ToString("F4", CultureInfo.InvariantCulture), Lines(result.Stdout)[rows[0]]);
    }

    [Fact]
    public async Task Rank_TextQueryAndCandidates_ListsCandidatesInTheServicesOrder()
    {
        string[] candidates = ["a photo of a dog", "a diagram", CliFleetFixture.ClipImage];

        var result = await fleet.MmAsync(["rank", "a red circle", .. candidates]).DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        var expected = await fleet.ClipClient.RankAsync(new ClipV1.RankRequest
        {
            Query = new ClipV1.RankItem { Text = "a red circle" },
            Candidates = { new ClipV1.RankItem { Text = candidates[0] }, new ClipV1.RankItem { Text = candidates[1] }, new ClipV1.RankItem { Image = Image(candidates[2]) } },
        }).ResponseAsync.DefaultTimeout();
        // The table wraps a long cell (an image path in a deep checkout) over several lines: each candidate is found by
        // its first characters, which open its cell's first line.
        var rows = expected.Ranked.Select(r => Array.FindIndex(Lines(result.Stdout),
            l => l.Contains(candidates[r.Index][..Math.Min(20, candidates[r.Index].Length)], StringComparison.Ordinal))).ToArray();
        Assert.All(rows, row => Assert.True(row >= 0, result.Stdout));
        Assert.Equal(rows.Order(), rows);
    }

    [Fact]
    public async Task Describe_ImageGreedy_PrintsTheTextDescribeReturns()
    {
        var result = await fleet.MmAsync("describe", CliFleetFixture.ClipImage, "What is in this picture?", "--max-tokens", "8", "--temperature", "0")
            .DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        var expected = await fleet.VisionClient.DescribeAsync(new VisionV1.DescribeRequest
        {
            Images = { Image(CliFleetFixture.ClipImage) }, Prompt = "What is in this picture?", MaxTokens = 8, Temperature = 0,
        }).ResponseAsync.DefaultTimeout();
        Assert.Equal(expected.Text + "\n", result.Stdout);
        Assert.Contains($"[finish {expected.FinishReason.ToString().ToUpperInvariant()}, {expected.Usage.CompletionTokens} tokens]", result.Stderr);
    }

    [Fact]
    public async Task Generate_TwoStepsWithPreviews_WritesPreviewsAndPngWithParameters()
    {
        var result = await fleet.MmAsync("generate", "a red circle", "--steps", "2", "--seed", "42", "--scheduler", "ddim",
            "--negative", "blurry", "--previews", "previews").DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        var png = Path.Combine(result.WorkingDirectory, "a-red-circle-42.png");
        Assert.True(File.Exists(png), result.ToString());
        Assert.Contains("saved a-red-circle-42.png", result.Stdout);
        var parameters = PngTextChunks.Read(File.ReadAllBytes(png))["parameters"];
        Assert.StartsWith("a red circle\nNegative prompt: blurry\n", parameters);
        Assert.Contains("Seed: 42", parameters);
        Assert.Contains("Steps: 2", parameters);
        Assert.Equal(["a-red-circle-step001.jpg", "a-red-circle-step002.jpg"],
            Directory.GetFiles(Path.Combine(result.WorkingDirectory, "previews")).Select(Path.GetFileName).Order());
        // Not a terminal: one plain line per step on stderr instead of the live bar.
        Assert.Contains("step 1/2", result.Stderr);
        Assert.Contains("step 2/2", result.Stderr);
    }

    [Fact]
    public async Task Generate_Img2ImgWithOutputAndTwoImages_WritesOneFilePerSeed()
    {
        var init = TestPaths.Fixture("tiny-sd", "img2img_init_64x64.png");

        var result = await fleet.MmAsync("generate", "a blue square", "--init", init, "--strength", "0.5", "--steps", "4",
            "--seed", "7", "-n", "2", "-o", "out/square.png").DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var seed in new[] { 7, 8 })
        {
            var file = Path.Combine(result.WorkingDirectory, "out", $"square-{seed}.png");
            Assert.True(File.Exists(file), result.ToString());
            Assert.Contains($"Seed: {seed}", PngTextChunks.Read(File.ReadAllBytes(file))["parameters"]);
        }
        Assert.Contains("2 steps", result.Stdout);   // img2img runs int(4 × 0.5) of the schedule
    }

    [Fact]
    public async Task Models_Fleet_ListsEveryServicesModel()
    {
        var result = await fleet.MmAsync("models").DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        var clip = await fleet.ClipClient.GetModelInfoAsync(new ClipV1.GetModelInfoRequest()).ResponseAsync.DefaultTimeout();
        var vision = await fleet.VisionClient.GetModelInfoAsync(new VisionV1.GetModelInfoRequest()).ResponseAsync.DefaultTimeout();
        foreach (var expected in new[] { "clip", "vision", "diffusion", clip.ModelName, vision.ModelName, "tiny-sd", $"embedding {clip.EmbeddingSize}" })
            Assert.Contains(expected, result.Stdout);
    }

    [Fact]
    public async Task Health_Fleet_EveryServiceServing()
    {
        var result = await fleet.MmAsync("health").DefaultTimeout();

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = Lines(result.Stdout);
        foreach (var service in new[] { "gateway", "clip", "vision", "diffusion" })
            Assert.Contains(lines, l => l.Contains(service, StringComparison.Ordinal) && l.Contains("SERVING", StringComparison.Ordinal));
    }

    private static string[] Lines(string text) => text.Split('\n');

    private static CommonV1.Image Image(string path) => new() { Data = ByteString.CopyFrom(File.ReadAllBytes(path)) };
}
