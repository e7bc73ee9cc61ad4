using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace MultiModal.ModelKit.Fetch;

/// <summary>
/// The Hugging Face hub's HTTP layout, as huggingface_hub speaks it: the file list of a revision from
/// <c>/api/models/{repo}/revision/{revision}?blobs=true</c>, each file from <c>/{repo}/resolve/{commit}/{path}</c>,
/// which redirects LFS files to a CDN host. The token goes only to the hub's own host, never along a redirect elsewhere.
/// </summary>
public sealed class HubClient(HttpClient http, Uri endpoint, string? token)
{
    private const int MaxRedirects = 5;

    /// <summary>The commit the revision names and every file in it.</summary>
    public async Task<(string Commit, IReadOnlyList<HubFile> Files)> ListAsync(string repo, string revision, CancellationToken ct)
    {
        var url = new Uri(endpoint, $"api/models/{repo}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        using var response = await SendAsync(url, range: null, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var json = await JsonDocument.ParseAsync(body, cancellationToken: ct);
        var root = json.RootElement;
        var commit = root.GetProperty("sha").GetString() ?? throw new HubFetchException($"{url}: no commit sha in the answer");
        var files = new List<HubFile>();
        foreach (var sibling in root.GetProperty("siblings").EnumerateArray())
        {
            var path = sibling.GetProperty("rfilename").GetString()!;
            if (sibling.TryGetProperty("lfs", out var lfs))
                files.Add(new HubFile(path, lfs.GetProperty("size").GetInt64(), lfs.GetProperty("sha256").GetString(), null));
            else if (sibling.TryGetProperty("blobId", out var blob) && sibling.TryGetProperty("size", out var size))
                files.Add(new HubFile(path, size.GetInt64(), null, blob.GetString()));
            else
                throw new HubFetchException($"{url}: '{path}' is listed without size and digest (the request asks blobs=true)");
        }
        return (commit, files);
    }

    /// <summary>
    /// Appends the rest of <paramref name="file"/> to <paramref name="partialPath"/>: a Range request from the bytes
    /// already there; a server that ignores the range (200) starts the file over.
    /// </summary>
    public async Task DownloadAsync(string repo, string commit, HubFile file, string partialPath, CancellationToken ct)
    {
        var have = File.Exists(partialPath) ? new FileInfo(partialPath).Length : 0;
        if (have > file.Size)
            have = 0;
        if (have == file.Size && have > 0)
            return;                                   // complete already; the caller verifies it
        var url = new Uri(endpoint, $"{repo}/resolve/{commit}/{string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString))}");
        using var response = await SendAsync(url, have > 0 ? have : null, ct);
        if (response.Headers.TryGetValues("X-Linked-Etag", out var linked) && file.Sha256 is { } sha
            && linked.First().Trim('"') is var etag && etag.Length == 64 && etag != sha)
            throw new HubFetchException($"{file.Path}: the hub's X-Linked-Etag {etag} is not the listed sha256 {sha}");
        var resumed = response.StatusCode == HttpStatusCode.PartialContent
            && response.Content.Headers.ContentRange?.From == have;
        await using var target = new FileStream(partialPath, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await body.CopyToAsync(target, 1 << 20, ct);
    }

    // GET with redirects followed by hand, so that the token is dropped when a redirect leaves the hub's host and the
    // Range header goes to wherever the bytes are.
    private async Task<HttpResponseMessage> SendAsync(Uri url, long? range, CancellationToken ct)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (token is not null && url.Authority == endpoint.Authority)
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (range is { } from)
                request.Headers.Range = new RangeHeaderValue(from, null);
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop == MaxRedirects)
                    throw new HubFetchException($"{url}: more than {MaxRedirects} redirects");
                url = location.IsAbsoluteUri ? location : new Uri(url, location);
                continue;
            }
            if (response.IsSuccessStatusCode)
                return response;
            response.Dispose();
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new HubFetchException(
                    $"{url}: {status} {response.ReasonPhrase}: the repository is gated or private" +
                    (token is null ? "; give a token with --token-file <file> (a file that is absent or empty gives none)" : ", and the token given is not accepted for it")),
                HttpStatusCode.NotFound => new HubFetchException($"{url}: 404: no such repository, revision or file"),
                _ => new HubFetchException($"{url}: {status} {response.ReasonPhrase}"),
            };
        }
    }
}
