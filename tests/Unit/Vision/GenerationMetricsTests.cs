using Microsoft.Extensions.Logging.Abstractions;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Testing;
using MultiModal.Vision;
using MultiModal.Vision.Backends;
using MultiModal.Vision.Local;
using Xunit;

namespace MultiModal.Tests.Unit.Vision;

/// <summary>
/// The local backend's meter (<c>MultiModal.Vision</c>) on the golden tiny LLaVA: time to first token, time per output
/// token, prompt/completion tokens and generations by finish reason, for a greedy answer and one ended by a stop string.
/// </summary>
public sealed class GenerationMetricsTests
{
    [Fact]
    public async Task DescribeAsync_GreedyAndStopped_RecordsTokensFinishReasonsAndTimings()
    {
        var model = $"metrics-{Guid.NewGuid():N}";                                   // only this test's meter is listened to
        using var recorder = new MeterRecorder(GenerationMetrics.MeterName, model);

        var folder = TestPaths.Fixture("llava", "tiny-llava-a");
        var bytes = File.ReadAllBytes(TestPaths.Fixture("llava", "tiny-llava-a-golden", "images", "circle_64x48.png"));
        var image = new VisionImage(bytes, "image/png", ImageDecoder.Decode(bytes, ImageLimits.Default));
        VisionRequest Request(params string[] stop) =>
            new([image], "What is in this picture?", new VisionSampling(20, null, 1, 0, null, stop));
        using (var backend = new LocalLlavaBackend(
            new VisionOptions { ModelPath = folder, ModelName = model, PrefillChunkTokens = 8 }, NullLoggerFactory.Instance))
        {
            var greedy = await backend.DescribeAsync(Request(), DateTime.MaxValue, CancellationToken.None).DefaultTimeout();
            var stopped = await backend.DescribeAsync(Request("geu"), DateTime.MaxValue, CancellationToken.None).DefaultTimeout();
            Assert.Equal((VisionFinishReason.Length, VisionFinishReason.Stop), (greedy.FinishReason, stopped.FinishReason));
        }

        Assert.Equal(2 * 31, recorder.Values("multimodal.vision.tokens", "kind", "prompt").Sum());         // the merged golden prompt, twice
        Assert.Equal(20 + 4, recorder.Values("multimodal.vision.tokens", "kind", "completion").Sum());     // greedy 20; "geu" completes at the 4th token
        Assert.Equal(1, recorder.Values("multimodal.vision.generations", "finish_reason", "length").Sum());
        Assert.Equal(1, recorder.Values("multimodal.vision.generations", "finish_reason", "stop").Sum());
        var firstToken = recorder.Values("multimodal.vision.time_to_first_token").ToList();
        var perToken = recorder.Values("multimodal.vision.time_per_output_token").ToList();
        Assert.Equal(2, firstToken.Count);
        Assert.Equal(2, perToken.Count);
        // Not a speed bound: positive, and within the DefaultTimeout (30 s) that already bounds each call above.
        Assert.All(firstToken.Concat(perToken), seconds => Assert.InRange(seconds, 1e-7, 30));
    }
}
