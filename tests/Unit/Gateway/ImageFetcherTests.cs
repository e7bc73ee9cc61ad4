using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MultiModal.Gateway.OpenAi.Errors;
using MultiModal.Gateway.OpenAi.ImageFetch;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.Gateway;

/// <summary>
/// The fetcher's SSRF guard with names resolved by an injected resolver. Refused addresses are never connected to;
/// the only traffic is to a loopback listener in the test, exempted by AllowedNetworks where a test needs it.
/// </summary>
public sealed class ImageFetcherTests
{
    private sealed class ScriptedResolver(params IPAddress[][] answers) : IHostResolver
    {
        public int Calls;

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            var answer = answers[Math.Min(Calls, answers.Length - 1)];
            Calls++;
            return Task.FromResult(answer);
        }
    }

    private static ImageFetcher Fetcher(IHostResolver resolver, string[] hosts, string[]? networks = null) =>
        new(Options.Create(new ImageFetchOptions { AllowedHosts = hosts, AllowedNetworks = networks ?? [], Timeout = TimeSpan.FromSeconds(10) }),
            resolver, NullLogger<ImageFetcher>.Instance);

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("10.0.0.5")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:192.168.0.1")]
    public async Task Fetch_NameResolvingToPrivateAddress_400ImageUrlNotAllowed(string address)
    {
        var resolver = new ScriptedResolver([IPAddress.Parse(address)]);
        using var fetcher = Fetcher(resolver, ["images.example.org"]);

        var e = await Assert.ThrowsAsync<OpenAiException>(() => fetcher.FetchAsync("http://images.example.org/cat.png", "image_url", default)).DefaultTimeout();

        Assert.Equal(400, e.Status);
        Assert.Equal("image_url", e.Param);
        Assert.Equal("image_url_not_allowed", e.Code);
        Assert.Equal(1, resolver.Calls);
    }

    [Fact]
    public async Task Fetch_AnyResolvedAddressPrivate_RefusedEvenWithAPublicOne()
    {
        var resolver = new ScriptedResolver([IPAddress.Parse("93.184.216.34"), IPAddress.Parse("10.0.0.1")]);
        using var fetcher = Fetcher(resolver, ["images.example.org"]);

        var e = await Assert.ThrowsAsync<OpenAiException>(() => fetcher.FetchAsync("http://images.example.org/cat.png", "p", default)).DefaultTimeout();

        Assert.Contains("10.0.0.1", e.Message);
    }

    [Theory]
    [InlineData("http://other.example.org/cat.png")]
    [InlineData("http://127.0.0.1/cat.png")]
    public async Task Fetch_HostNotAllowListed_RefusedBeforeResolving(string url)
    {
        var resolver = new ScriptedResolver([IPAddress.Parse("93.184.216.34")]);
        using var fetcher = Fetcher(resolver, ["images.example.org"]);

        var e = await Assert.ThrowsAsync<OpenAiException>(() => fetcher.FetchAsync(url, "p", default)).DefaultTimeout();

        Assert.Equal("image_host_not_allowed", e.Code);
        Assert.Equal(0, resolver.Calls);
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://images.example.org/cat.png")]
    [InlineData("not a url")]
    public async Task Fetch_NotHttp_400InvalidImageUrl(string url)
    {
        using var fetcher = Fetcher(new ScriptedResolver([IPAddress.Loopback]), ["images.example.org"]);

        var e = await Assert.ThrowsAsync<OpenAiException>(() => fetcher.FetchAsync(url, "p", default)).DefaultTimeout();

        Assert.Equal("invalid_image_url", e.Code);
    }

    [Fact]
    public async Task Fetch_RedirectAfterRebinding_NewConnectionRechecksAndRefuses()
    {
        // First resolution: the loopback listener (exempted). It redirects to the same host and closes the connection,
        // so the redirect needs a new connection, whose resolution now says 10.0.0.1: refused before connecting.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var served = ServeOnceAsync(listener, $"HTTP/1.1 302 Found\r\nLocation: /second.png\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        var resolver = new ScriptedResolver([IPAddress.Loopback], [IPAddress.Parse("10.0.0.1")]);
        using var fetcher = Fetcher(resolver, ["img.test"], ["127.0.0.0/8"]);

        var e = await Assert.ThrowsAsync<OpenAiException>(() => fetcher.FetchAsync($"http://img.test:{port}/first.png", "p", default)).DefaultTimeout();

        Assert.Equal("GET /first.png", await served.DefaultTimeout());
        Assert.Equal("image_url_not_allowed", e.Code);
        Assert.Equal(2, resolver.Calls);
    }

    [Fact]
    public async Task Fetch_BodyOverCap_400ImageTooLarge()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var body = new string('x', 2048);
        _ = ServeOnceAsync(listener, $"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n{body}");
        using var fetcher = new ImageFetcher(
            Options.Create(new ImageFetchOptions { AllowedHosts = ["img.test"], AllowedNetworks = ["127.0.0.0/8"], MaxBytes = 1024 }),
            new ScriptedResolver([IPAddress.Loopback]), NullLogger<ImageFetcher>.Instance);

        var e = await Assert.ThrowsAsync<OpenAiException>(() => fetcher.FetchAsync($"http://img.test:{port}/big.png", "p", default)).DefaultTimeout();

        Assert.Equal("image_too_large", e.Code);
    }

    // Answers one request with a canned response; returns the request line.
    private static async Task<string> ServeOnceAsync(TcpListener listener, string response)
    {
        using var client = await listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        var request = new StringBuilder();
        var buffer = new byte[4096];
        while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0) break;
            request.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        await stream.WriteAsync(Encoding.ASCII.GetBytes(response));
        await stream.FlushAsync();
        client.Client.Shutdown(SocketShutdown.Both);
        var line = request.ToString().Split("\r\n")[0];
        return line[..line.LastIndexOf(' ')];
    }
}
