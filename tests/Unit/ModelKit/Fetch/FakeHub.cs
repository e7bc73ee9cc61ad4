using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using MultiModal.ModelKit.Fetch;

namespace MultiModal.Tests.Unit.ModelKit.Fetch;

/// <summary>
/// A loopback server that answers the way the Hugging Face hub does: the revision's file list with blob ids and LFS
/// digests, <c>/resolve/</c> answering small files itself and redirecting LFS files to a CDN on another address (with
/// X-Linked-Etag), Range requests there, and 401 for a gated repository without the token. Faults on request.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    public const string Repo = "org/tiny";
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";
    public const string Token = "hf_test_token";

    private readonly WebApplication app;
    private readonly Dictionary<string, (byte[] Bytes, bool Lfs)> files = new();

    public FakeHub(bool gated = false)
    {
        Gated = gated;
        files["config.json"] = (Encoding.UTF8.GetBytes("{\"hidden_size\": 8}\n"), false);
        files["README.md"] = (Encoding.UTF8.GetBytes("# tiny\n"), false);
        files["model.safetensors"] = (RandomBytes(3 << 20, 1), true);
        files["unet/diffusion_pytorch_model.safetensors"] = (RandomBytes(1 << 20, 2), true);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            // HTTP/1.1 as the hub and its CDN speak it (the test folder's appsettings.json is a service's: h2c only).
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);     // the hub
            k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http1);     // the CDN: another authority
        });
        app = builder.Build();
        app.Run(Handle);
    }

    public bool Gated { get; }
    public Uri Endpoint { get; private set; } = null!;
    private int cdnPort;

    /// <summary>The CDN cuts the connection after this many bytes of the next LFS transfer (then serves normally).</summary>
    public long? BreakNextTransferAfter { get; set; }

    /// <summary>The CDN flips one byte of every LFS file it serves.</summary>
    public bool CorruptLfs { get; set; }

    /// <summary>Extra entries the listing names (e.g. a path that climbs out of the folder).</summary>
    public List<string> ExtraListedPaths { get; } = [];

    public ConcurrentQueue<(string Path, string? Authorization, string? Range, long BytesSent)> CdnRequests { get; } = new();
    public ConcurrentQueue<(string Path, string? Authorization)> HubRequests { get; } = new();

    public byte[] Bytes(string path) => files[path].Bytes;

    public async Task StartAsync()
    {
        await app.StartAsync();
        var ports = app.Urls.Select(u => new Uri(u).Port).ToArray();
        Endpoint = new Uri($"http://127.0.0.1:{ports[0]}/");
        cdnPort = ports[1];
    }

    private async Task Handle(HttpContext context)
    {
        var path = context.Request.Path.Value!;
        var authorization = context.Request.Headers.Authorization.FirstOrDefault();
        if (context.Connection.LocalPort == cdnPort)
        {
            await ServeCdn(context, path[1..], authorization);
            return;
        }
        HubRequests.Enqueue((path, authorization));
        if (Gated && authorization != $"Bearer {Token}")
        {
            context.Response.StatusCode = 401;
            return;
        }
        if (path == $"/api/models/{Repo}/revision/main" && context.Request.Query["blobs"] == "true")
        {
            await context.Response.WriteAsJsonAsync(Listing());
            return;
        }
        var prefix = $"/{Repo}/resolve/{Commit}/";
        if (path.StartsWith(prefix, StringComparison.Ordinal) && files.TryGetValue(path[prefix.Length..], out var file))
        {
            if (file.Lfs)
            {
                var sha = Sha256(file.Bytes);
                context.Response.Headers["X-Linked-Etag"] = $"\"{sha}\"";
                context.Response.Headers["X-Linked-Size"] = file.Bytes.Length.ToString();
                context.Response.Redirect($"http://127.0.0.1:{cdnPort}/{sha}");
                return;
            }
            context.Response.Headers.ETag = $"\"{GitBlobSha1(file.Bytes)}\"";
            await context.Response.Body.WriteAsync(file.Bytes);
            return;
        }
        context.Response.StatusCode = 404;
    }

    private async Task ServeCdn(HttpContext context, string sha, string? authorization)
    {
        var file = files.Values.FirstOrDefault(f => f.Lfs && Sha256(f.Bytes) == sha).Bytes;
        var range = context.Request.Headers.Range.FirstOrDefault();
        if (file is null)
        {
            context.Response.StatusCode = 404;
            return;
        }
        var bytes = (byte[])file.Clone();
        if (CorruptLfs)
            bytes[bytes.Length / 3] ^= 0x5A;
        long from = 0;
        if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            from = long.Parse(range["bytes=".Length..^1]);
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {from}-{bytes.Length - 1}/{bytes.Length}";
        }
        context.Response.ContentLength = bytes.Length - from;
        var cut = BreakNextTransferAfter;
        BreakNextTransferAfter = null;
        var count = cut is { } c ? Math.Min(c, bytes.Length - from) : bytes.Length - from;
        CdnRequests.Enqueue((sha, authorization, range, count));
        await context.Response.Body.WriteAsync(bytes.AsMemory((int)from, (int)count));
        if (cut is not null)
        {
            await context.Response.Body.FlushAsync();
            context.Abort();
        }
    }

    private object Listing() => new
    {
        id = Repo,
        sha = Commit,
        siblings = files.Select(f => f.Value.Lfs
                ? (object)new { rfilename = f.Key, blobId = "ffff", size = 134, lfs = new { sha256 = Sha256(f.Value.Bytes), size = f.Value.Bytes.Length, pointerSize = 134 } }
                : new { rfilename = f.Key, blobId = GitBlobSha1(f.Value.Bytes), size = f.Value.Bytes.Length })
            .Concat(ExtraListedPaths.Select(p => (object)new { rfilename = p, blobId = GitBlobSha1([]), size = 0 })),
    };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    // What `git hash-object` prints, computed here independently of FileDigest.
    private static string GitBlobSha1(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    public async ValueTask DisposeAsync() => await app.DisposeAsync();
}
