using System.Buffers;
using System.IO.Pipelines;
using System.Reflection;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MultiModal.Gateway.Listener;

/// <summary>
/// One cleartext port for gRPC (h2c, HTTP/2 with prior knowledge) and REST (HTTP/1.1, or h2c with prior knowledge).
/// Kestrel 10 treats a cleartext <c>Http1AndHttp2</c> endpoint as HTTP/1.1 only, so this connection middleware reads
/// the first bytes without consuming them: the HTTP/2 client preface (RFC 9113 §3.4) selects HTTP/2 for this
/// connection, anything else HTTP/1.1. Kestrel reads a per-connection choice from its internal
/// <c>HttpProtocolsFeature</c> (what its TLS middleware sets after ALPN); the type is looked up once at start-up, and a
/// Kestrel without it stops the gateway with a clear message rather than serving one protocol silently.
/// </summary>
public static class CleartextProtocolSniffer
{
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private static readonly Type FeatureType = typeof(KestrelServerOptions).Assembly
        .GetType("Microsoft.AspNetCore.Server.Kestrel.Core.Internal.HttpProtocolsFeature")
        ?? throw new InvalidOperationException(
            "This Kestrel has no HttpProtocolsFeature: the gateway cannot serve HTTP/1.1 and h2c on one cleartext port.");

    private static readonly object Http1 = Create(HttpProtocols.Http1);
    private static readonly object Http2 = Create(HttpProtocols.Http2);

    /// <summary>Serves HTTP/1.1 and h2c on <paramref name="listen"/> (cleartext endpoints only).</summary>
    public static void UseHttp1AndH2c(ListenOptions listen)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.Use(next => async connection =>
        {
            var http2 = await StartsWithPrefaceAsync(connection.Transport.Input, connection.ConnectionClosed);
            connection.Features[FeatureType] = http2 ? Http2 : Http1;
            await next(connection);
        });
    }

    /// <summary>
    /// True when the first bytes are the HTTP/2 preface; false at the first byte that differs, or when the peer closes
    /// first. Nothing is consumed: the protocol handler reads the same bytes.
    /// </summary>
    public static async Task<bool> StartsWithPrefaceAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, Preface.Length);
            var matches = Matches(buffer.Slice(0, length), Preface[..length]);
            var decided = !matches || length == Preface.Length || result.IsCompleted || result.IsCanceled;
            // Examined up to the end, so the next read waits for more bytes instead of returning the same ones.
            input.AdvanceTo(buffer.Start, decided ? buffer.Start : buffer.End);
            if (decided)
                return matches && length == Preface.Length;
        }
    }

    private static bool Matches(ReadOnlySequence<byte> bytes, ReadOnlySpan<byte> expected)
    {
        if (bytes.IsSingleSegment)
            return bytes.FirstSpan.SequenceEqual(expected);
        Span<byte> copy = stackalloc byte[expected.Length];
        bytes.CopyTo(copy);
        return copy.SequenceEqual(expected);
    }

    private static object Create(HttpProtocols protocols) =>
        Activator.CreateInstance(FeatureType, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, [protocols], null)
        ?? throw new InvalidOperationException("HttpProtocolsFeature could not be created.");
}
