using Google.Protobuf;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Common.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Tests.Bench.Fleet;

namespace MultiModal.Tests.Bench.Soak;

/// <summary>
/// The soak's mixed load through the gateway: per service one or two workers cycling through good calls, calls
/// cancelled midway and bad inputs that must be refused with INVALID_ARGUMENT. Every call has a deadline; every loop
/// is bounded by <see cref="MaxCallsPerWorker"/> and by the stop token.
/// </summary>
public sealed class SoakLoad(BenchFleet fleet, CallLedger ledger)
{
    public const int MaxCallsPerWorker = 1_000_000;
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(120);
    private static readonly StatusCode[] Ok = [StatusCode.OK];
    private static readonly StatusCode[] Invalid = [StatusCode.InvalidArgument];
    // A stream cancelled after its first messages; OK when it finished before the cancellation point.
    private static readonly StatusCode[] CancelledOrDone = [StatusCode.Cancelled, StatusCode.OK];

    private readonly Image _jpeg = new() { Data = ByteString.CopyFrom(ClipBench.SyntheticJpeg(320, 240)), MimeType = "image/jpeg" };
    private readonly Image _garbage = new() { Data = ByteString.CopyFromUtf8("this is not an image, whatever the mime type says"), MimeType = "image/png" };

    /// <summary>Runs every worker until <paramref name="stop"/> fires, then waits for their calls to end.</summary>
    public Task RunAsync(CancellationToken stop) => Task.WhenAll(
        Worker("clip-a", stop, ClipCalls), Worker("clip-b", stop, ClipCalls),
        Worker("vision", stop, VisionCalls), Worker("diffusion", stop, DiffusionCalls));

    private static async Task Worker(string name, CancellationToken stop, Func<int, Task>[] calls)
    {
        await Task.Yield();
        for (var i = 0; i < MaxCallsPerWorker && !stop.IsCancellationRequested; i++)
            await calls[i % calls.Length](i);
    }

    private static DateTime Deadline() => DateTime.UtcNow + CallDeadline;

    private Func<int, Task>[] ClipCalls =>
    [
        i => ledger.RunAsync("clip.EmbedTexts", Ok, () => fleet.Clip.EmbedTextsAsync(new EmbedTextsRequest
        {
            Texts = { Enumerable.Range(0, 1 + i % 8).Select(k => $"a photo of thing {i} number {k}") }, Normalize = i % 2 == 0,
        }, deadline: Deadline()).ResponseAsync),
        i => ledger.RunAsync("clip.EmbedImages", Ok, () => fleet.Clip.EmbedImagesAsync(new EmbedImagesRequest
        {
            Images = { Enumerable.Repeat(_jpeg, 1 + i % 4) },
        }, deadline: Deadline()).ResponseAsync),
        i => ledger.RunAsync("clip.Classify", Ok, () => fleet.Clip.ClassifyAsync(new ClassifyRequest
        {
            Image = _jpeg, Labels = { "cat", "dog", $"bird {i % 10}" },
        }, deadline: Deadline()).ResponseAsync),
        i => ledger.RunAsync("clip.Rank", Ok, () => fleet.Clip.RankAsync(new RankRequest
        {
            Query = new RankItem { Text = "a test card" },
            Candidates = { new RankItem { Text = "gradients" }, new RankItem { Image = _jpeg }, new RankItem { Text = $"rings {i}" } },
            TopK = 2,
        }, deadline: Deadline()).ResponseAsync),
        _ => ledger.RunAsync("clip.EmbedImages(bad image)", Invalid, () => fleet.Clip.EmbedImagesAsync(new EmbedImagesRequest
        {
            Images = { _jpeg, _garbage },
        }, deadline: Deadline()).ResponseAsync),
    ];

    private Func<int, Task>[] VisionCalls =>
    [
        i => ledger.RunAsync("vision.Describe", Ok, () => fleet.Vision.DescribeAsync(new DescribeRequest
        {
            Images = { _jpeg }, Prompt = "What is in this picture?", MaxTokens = 24, Temperature = i % 2 == 0 ? 0 : 0.8f, Seed = (ulong)i,
        }, deadline: Deadline()).ResponseAsync),
        i => ledger.RunAsync("vision.DescribeStream", Ok, async () =>
        {
            using var call = fleet.Vision.DescribeStream(new DescribeStreamRequest { Images = { _jpeg }, MaxTokens = 24, Seed = (ulong)i, Temperature = 0.7f },
                deadline: Deadline());
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
        }),
        i => ledger.RunAsync("vision.DescribeStream(cancelled)", CancelledOrDone, async () =>
        {
            using var cancel = new CancellationTokenSource();
            using var call = fleet.Vision.DescribeStream(new DescribeStreamRequest { Images = { _jpeg }, MaxTokens = 200, Seed = (ulong)i, Temperature = 0.7f },
                deadline: Deadline(), cancellationToken: cancel.Token);
            var read = 0;
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
                if (++read == 3)
                    cancel.Cancel();
        }),
        _ => ledger.RunAsync("vision.Describe(bad temperature)", Invalid, () => fleet.Vision.DescribeAsync(new DescribeRequest
        {
            Images = { _jpeg }, Temperature = 3,
        }, deadline: Deadline()).ResponseAsync),
        _ => ledger.RunAsync("vision.Describe(bad image)", Invalid, () => fleet.Vision.DescribeAsync(new DescribeRequest
        {
            Images = { _garbage },
        }, deadline: Deadline()).ResponseAsync),
    ];

    private Func<int, Task>[] DiffusionCalls =>
    [
        i => ledger.RunAsync("diffusion.GenerateImage(previews)", Ok, async () =>
        {
            using var call = fleet.Diffusion.GenerateImage(new GenerateImageRequest
            {
                Prompt = $"a lighthouse at dusk {i}", Steps = 4, Seed = (ulong)i, Scheduler = Scheduler.Euler,
                Preview = new PreviewOptions { EveryNSteps = 1, Kind = (i / 5) % 2 == 0 ? PreviewKind.Approximate : PreviewKind.FullDecode },
            }, deadline: Deadline());
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
        }),
        i => ledger.RunAsync("diffusion.GenerateImage(img2img)", Ok, async () =>
        {
            using var call = fleet.Diffusion.GenerateImage(new GenerateImageRequest
            {
                Prompt = "the same, in winter", InitImage = _jpeg, Strength = 0.6f, Steps = 5, Seed = (ulong)i, Width = 64, Height = 64,
                OutputFormat = OutputFormat.Jpeg,
            }, deadline: Deadline());
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
        }),
        i => ledger.RunAsync("diffusion.GenerateImage(cancelled)", CancelledOrDone, async () =>
        {
            using var cancel = new CancellationTokenSource();
            using var call = fleet.Diffusion.GenerateImage(new GenerateImageRequest
            {
                Prompt = "cancel me", Steps = 30, Seed = (ulong)i, Preview = new PreviewOptions { EveryNSteps = 1 },
            }, deadline: Deadline(), cancellationToken: cancel.Token);
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
                if (call.ResponseStream.Current.Progress?.Step == 2)
                    cancel.Cancel();
        }),
        _ => ledger.RunAsync("diffusion.GenerateImage(bad size)", Invalid, async () =>
        {
            using var call = fleet.Diffusion.GenerateImage(new GenerateImageRequest { Prompt = "odd", Width = 100, Height = 60 }, deadline: Deadline());
            await foreach (var _ in call.ResponseStream.ReadAllAsync()) { }
        }),
    ];
}
