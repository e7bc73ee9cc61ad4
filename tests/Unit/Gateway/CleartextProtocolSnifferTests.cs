using System.IO.Pipelines;
using System.Text;
using MultiModal.Gateway.Listener;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Gateway;

public sealed class CleartextProtocolSnifferTests
{
    private static async Task<(bool Http2, string Left)> SniffAsync(params string[] chunks)
    {
        var pipe = new Pipe();
        var sniff = CleartextProtocolSniffer.StartsWithPrefaceAsync(pipe.Reader, default);
        foreach (var chunk in chunks)
        {
            await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(chunk));
            await Task.Yield();
        }
        await pipe.Writer.CompleteAsync();
        var http2 = await sniff.DefaultTimeout();
        var left = await pipe.Reader.ReadAtLeastAsync(int.MaxValue).AsTask().DefaultTimeout();
        return (http2, Encoding.ASCII.GetString(left.Buffer));
    }

    [Fact]
    public async Task StartsWithPreface_PrefaceInPieces_TrueAndNothingConsumed()
    {
        var (http2, left) = await SniffAsync("PRI * HTTP/2.0\r\n", "\r\nSM\r\n\r\n", "frames");

        Assert.True(http2);
        Assert.StartsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", left);
    }

    [Fact]
    public async Task StartsWithPreface_Http11Request_FalseAndNothingConsumed()
    {
        var (http2, left) = await SniffAsync("POST /v1/chat/completions HTTP/1.1\r\n");

        Assert.False(http2);
        Assert.Equal("POST /v1/chat/completions HTTP/1.1\r\n", left);
    }

    [Fact]
    public async Task StartsWithPreface_ClosedMidPreface_False()
    {
        var (http2, left) = await SniffAsync("PRI * HT");

        Assert.False(http2);
        Assert.Equal("PRI * HT", left);
    }
}
