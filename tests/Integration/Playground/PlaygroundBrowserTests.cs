using System.Text.Json;
using System.Text.RegularExpressions;
using MultiModal.Tests.Integration.OpenAi;
using MultiModal.Tests.Integration.Vision;
using MultiModal.Tests.Testing;
using Xunit;
using Xunit.Abstractions;
using ClipV1 = MultiModal.Contracts.Clip.V1;
using DiffusionV1 = MultiModal.Contracts.Diffusion.V1;
using VisionV1 = MultiModal.Contracts.Vision.V1;

namespace MultiModal.Tests.Integration.Playground;

/// <summary>
/// The gateway's browser playground in a real browser: Debian's Chromium (<c>/usr/bin/chromium</c>; .ci/run installs
/// it) driven by npm <c>playwright-core</c> (pinned with its lock file in Playground/node; it downloads no browser), on
/// the keyed REST fleet. Playground/node/playground-test.mjs runs the cases and prints one JSON line each; this test
/// checks them against what the services say: the job the page cancelled (and the blocking job of the queue case) is logged
/// cancelled by the diffusion service and counted in GetModelInfo.jobs_cancelled, the streamed answer is gRPC Describe's greedy text, the top bar is
/// gRPC Classify's best label. Screenshots of each tab land in artifacts/playground/.
/// </summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed partial class PlaygroundBrowserTests(OpenAiFleetFixture fleet, ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Question = "What is in this picture?";
    private const int MaxTokens = 12;
    // The service's default MaxSteps at 64²: the cancelled and the blocking jobs would run ~40 s on the tiny model here
    // (0.25 s a step measured under load), while the page clicks Cancel (or sees "Queued") within about a second of
    // their first step. (256² would be safer still, but one step there outlasts the script's waits.)
    private const int CancelSteps = 150;
    private static readonly string[] Labels = ["a red circle", "a blue square", "a photo of a dog", "text"];

    private static readonly string[] Cases =
    [
        "page_without_key", "wrong_key_error_line", "generate_with_previews", "cancel_mid_generation", "queue_position_shown",
        "img2img_by_drop",
        "describe_streaming", "classify_bars", "no_console_errors",
    ];

    private static readonly NodeScript Script = new(Path.Combine(TestPaths.RepoRoot, "tests", "Integration", "Playground", "node"));

    /// <summary>Where the screenshots go (CI prints it): artifacts/playground under the repository root.</summary>
    public static string Screenshots => Path.Combine(TestPaths.RepoRoot, "artifacts", "playground");

    [Fact]
    public async Task Playground_InChromiumWithKeys_PreviewsCancelsStreamsAndClassifies()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run does).");
        await Script.EnsurePackagesAsync("playwright-core");
        var picture = Path.Combine(Directory.CreateTempSubdirectory("playground-").FullName, "picture.png");
        await File.WriteAllBytesAsync(picture, fleet.ImageHost.Png);
        var image = new Contracts.Common.V1.Image { Data = Google.Protobuf.ByteString.CopyFrom(fleet.ImageHost.Png), MimeType = "image/png" };

        var classified = await new ClipV1.ClipService.ClipServiceClient(fleet.Channel)
            .ClassifyAsync(new ClipV1.ClassifyRequest { Image = image, Labels = { Labels } }, fleet.Bearer).ResponseAsync.DefaultTimeout();
        var described = await new VisionV1.VisionService.VisionServiceClient(fleet.Channel).DescribeAsync(
            new VisionV1.DescribeRequest { Images = { image }, Prompt = Question, MaxTokens = MaxTokens, Temperature = 0 }, fleet.Bearer).ResponseAsync.DefaultTimeout();
        var diffusion = new DiffusionV1.DiffusionService.DiffusionServiceClient(fleet.Channel);
        var cancelledBefore = (await diffusion.GetModelInfoAsync(new(), fleet.Bearer).ResponseAsync.DefaultTimeout()).JobsCancelled;
        var cancelLinesBefore = CancelledJob().Matches(fleet.Diffusion.Output).Count;

        var (exit, log) = await Script.RunAsync("node", ["playground-test.mjs"], new()
        {
            ["GATEWAY_URL"] = fleet.Gateway.Address.ToString(),
            ["API_KEY"] = OpenAiFleetFixture.Key,
            ["CHROMIUM"] = Chromium,
            ["SCREENSHOTS"] = Screenshots,
            ["IMAGE_PNG"] = picture,
            ["INIT_PNG"] = TestPaths.Fixture("tiny-sd", "img2img_init_64x64.png"),
            ["CANCEL_STEPS"] = CancelSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["QUESTION"] = Question,
            ["MAX_TOKENS"] = MaxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["EXPECTED_ANSWER"] = described.Text,
            ["LABELS"] = JsonSerializer.Serialize(Labels),
            ["EXPECTED_TOP"] = classified.Scores.MaxBy(s => s.Probability)!.Label,
        }, TimeSpan.FromMinutes(2));   // hang guard: the run takes about 30 s on the loaded 2-core machine
        output.WriteLine(log);
        output.WriteLine($"Screenshots: {Screenshots}");

        NodeScript.AssertEveryCasePassed(Cases, exit, log);

        // The Cancel button aborted the fetch; the gateway cancelled the gRPC call; the service stopped the job mid-way.
        // Then queue_position_shown's blocking client went away: its job stopped the same way.
        for (var i = 0; i < 2; i++)
        {
            var stopped = await fleet.Diffusion.WaitForLogAsync(CancelledJob(), cancelLinesBefore + i).DefaultTimeout();
            Assert.True(int.Parse(stopped.Groups["steps"].Value, System.Globalization.CultureInfo.InvariantCulture) < CancelSteps, stopped.Value);
        }
        var info = await diffusion.GetModelInfoAsync(new(), fleet.Bearer).ResponseAsync.DefaultTimeout();
        Assert.Equal(cancelledBefore + 2, info.JobsCancelled);
        foreach (var tab in new[] { "generate", "ask", "classify" })
            Assert.True(new FileInfo(Path.Combine(Screenshots, tab + ".png")).Length > 0, tab + ".png");
    }

    [GeneratedRegex(@"job \S+ stopped after (?<steps>\d+) steps \(\d+ after the cancellation\)")]
    private static partial Regex CancelledJob();
}
