using System.Text;
using System.Text.Json;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>Cancelling the HTTP request cancels the gRPC call: the generation behind a dropped stream stops early.</summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed partial class RestCancellationTests(OpenAiFleetFixture fleet)
{
    // Within the tiny model's context (256 positions less the prompt), so only a cancel can end it early.
    private const int LongAnswer = 200;

    [Fact]
    public async Task ChatStream_ClientDropsAfterFirstDelta_GenerationCancelledEarly()
    {
        var cancelledBefore = CancelledGeneration().Matches(fleet.Vision.Output).Count;
        var json = JsonSerializer.Serialize(new
        {
            model = "gpt-4o",
            temperature = 0,
            max_tokens = LongAnswer,
            stream = true,
            messages = new[]
            {
                new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { type = "text", text = "Describe it." },
                        new { type = "image_url", image_url = "data:image/png;base64," + Convert.ToBase64String(fleet.ImageHost.Png) },
                    },
                },
            },
        });
        // No draining on dispose: HttpClient would otherwise read the rest of the stream to keep the connection.
        using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = fleet.Gateway.Address };
        http.DefaultRequestHeaders.Authorization = new("Bearer", OpenAiFleetFixture.Key);
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync().DefaultTimeout());
        var deltas = 0;
        while (deltas < 2)     // the role chunk, then the first text delta
        {
            var line = await reader.ReadLineAsync().DefaultTimeout();
            Assert.NotNull(line);
            if (line.StartsWith("data: {", StringComparison.Ordinal))
                deltas++;
        }

        response.Dispose();    // closes the HTTP/1.1 connection mid-stream

        var cancelled = await fleet.Vision.WaitForLogAsync(CancelledGeneration(), cancelledBefore);
        Assert.True(int.Parse(cancelled.Groups["tokens"].Value) < LongAnswer, cancelled.Value);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"Generated (?<tokens>\d+) tokens after a \d+-token prompt \(Cancelled\)")]
    private static partial System.Text.RegularExpressions.Regex CancelledGeneration();
}
