using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using MultiModal.Gateway.OpenAi.Errors;

namespace MultiModal.Gateway.OpenAi.ImageFetch;

/// <summary>
/// Fetches <c>http(s)</c> image URLs named in REST requests, guarded against SSRF: the host must be on the allow-list;
/// the connection is made by <see cref="ConnectAsync"/>, which resolves the name itself, refuses it if <b>any</b>
/// address is not allowed (<see cref="AddressClassifier"/>), and connects to an address it just checked (so a name that
/// re-resolves to another address between check and connect, DNS rebinding, cannot slip through). Redirects are
/// followed by hand, to the same host only, each one connecting through the same check; the body is capped at
/// <c>MaxBytes</c> and the whole fetch at <c>Timeout</c>. No proxy, no cookies, no credentials.
/// </summary>
public sealed class ImageFetcher : IDisposable
{
    private readonly ImageFetchOptions _options;
    private readonly IReadOnlyList<IPNetwork> _networks;
    private readonly HostAllowList _hosts;
    private readonly IHostResolver _resolver;
    private readonly ILogger _logger;
    private readonly HttpClient _client;

    public ImageFetcher(IOptions<ImageFetchOptions> options, IHostResolver resolver, ILogger<ImageFetcher> logger)
    {
        _options = options.Value;
        _networks = _options.Networks();
        _hosts = new HostAllowList(_options.AllowedHosts);
        _resolver = resolver;
        _logger = logger;
        _client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectCallback = ConnectAsync,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectTimeout = _options.Timeout,
        })
        { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("MultiModal.Gateway", "1.0"));
    }

    /// <summary>The image bytes and the media type the server declared; a refusal is a 400 naming <paramref name="param"/>.</summary>
    public async Task<(byte[] Data, string? MediaType)> FetchAsync(string url, string param, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw OpenAiException.Invalid(param, "image_url must be a data: URL or an absolute http(s) URL.", "invalid_image_url");
        if (!_hosts.Allows(uri.IdnHost))
        {
            OpenAiLog.ImageFetchRefused(_logger, uri.IdnHost, "host not on Gateway:ImageFetch:AllowedHosts");
            throw OpenAiException.Invalid(param,
                $"The gateway does not fetch images from '{uri.IdnHost}': the host is not on its allow-list (send the image as a data: URL).",
                "image_host_not_allowed");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            for (var redirects = 0; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Accept.ParseAdd("image/*");
                using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    if (next.Scheme is not ("http" or "https") || !string.Equals(next.IdnHost, uri.IdnHost, StringComparison.OrdinalIgnoreCase))
                        throw Refused(param, uri.IdnHost, "it redirects to another host");
                    if (redirects >= _options.MaxRedirects)
                        throw Refused(param, uri.IdnHost, $"it redirects more than {_options.MaxRedirects} times");
                    uri = next;
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                    throw OpenAiException.Invalid(param, $"The image URL answered HTTP {(int)response.StatusCode}.", "image_fetch_failed");
                if (response.Content.Headers.ContentLength > _options.MaxBytes)
                    throw TooLarge(param);
                var data = await ReadCappedAsync(response.Content, param, timeout.Token);
                return (data, response.Content.Headers.ContentType?.MediaType);
            }
        }
        catch (HttpRequestException e) when (e.InnerException is FetchRefusedException refused)
        {
            throw Refused(param, uri.IdnHost, refused.Message);
        }
        catch (HttpRequestException e)
        {
            throw OpenAiException.Invalid(param, $"The image URL could not be fetched: {e.HttpRequestError}.", "image_fetch_failed");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw OpenAiException.Invalid(param, $"The image URL did not answer within {_options.Timeout.TotalSeconds:0.#} s.", "image_fetch_timeout");
        }
    }

    private async Task<byte[]> ReadCappedAsync(HttpContent content, string param, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > _options.MaxBytes)
                throw TooLarge(param);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    // Every connection, first request and redirects alike: resolve, refuse if any address is not allowed, connect to
    // the checked addresses in turn.
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        IPAddress[] addresses;
        try
        {
            addresses = await _resolver.ResolveAsync(host, cancellationToken);
        }
        catch (SocketException e)
        {
            throw new FetchRefusedException($"its host does not resolve ({e.SocketErrorCode})");
        }
        if (addresses.Length == 0)
            throw new FetchRefusedException("its host does not resolve");
        if (addresses.FirstOrDefault(a => !AddressClassifier.IsAllowed(a, _networks)) is { } blocked)
            throw new FetchRefusedException($"its host resolves to {blocked}, a loopback, private, link-local or otherwise non-public address");

        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last!;
    }

    private OpenAiException Refused(string param, string host, string why)
    {
        OpenAiLog.ImageFetchRefused(_logger, host, why);
        return OpenAiException.Invalid(param, $"The gateway does not fetch this image URL: {why}.", "image_url_not_allowed");
    }

    private OpenAiException TooLarge(string param) =>
        OpenAiException.Invalid(param, $"The image is larger than the gateway's limit of {_options.MaxBytes} bytes.", "image_too_large");

    public void Dispose() => _client.Dispose();

    private sealed class FetchRefusedException(string message) : Exception(message);
}
