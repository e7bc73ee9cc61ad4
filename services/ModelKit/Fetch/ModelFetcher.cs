namespace MultiModal.ModelKit.Fetch;

/// <summary>What to fetch: <c>ModelKit fetch &lt;repo&gt; --to &lt;dir&gt; [--revision] [--files] [--endpoint] [--token-file] [--offline]</c>.</summary>
public sealed record FetchRequest(
    string Repo, string TargetDir, string Revision, IReadOnlyList<string> Patterns, Uri Endpoint, string? TokenFile, bool Offline);

/// <summary>
/// Puts a hub repository's files (those the patterns match) into a folder, each one downloaded to
/// <c>&lt;file&gt;.incomplete</c>, resumed from there when a transfer breaks (in this run or a later one), verified
/// against the hub's digest and only then renamed into place; a file that does not verify is deleted, never left.
/// Files already present with the right digest are kept. Offline, it only verifies the folder against its manifest.
/// </summary>
public sealed class ModelFetcher(HttpClient http, TextWriter log)
{
    /// <summary>Transfer attempts per file; each one resumes where the last stopped.</summary>
    public const int Attempts = 3;

    public const string PartialSuffix = ".incomplete";

    public async Task<FetchManifest> FetchAsync(FetchRequest request, CancellationToken ct = default)
    {
        var token = ReadToken(request.TokenFile);
        var hub = new HubClient(http, request.Endpoint, token);
        var (commit, listed) = await hub.ListAsync(request.Repo, request.Revision, ct);
        var wanted = GlobPattern.AnyOf(request.Patterns);
        var files = listed.Where(f => wanted(f.Path)).ToList();
        if (files.Count == 0)
            throw new HubFetchException($"{request.Repo}@{request.Revision}: no file matches {string.Join(", ", request.Patterns)}");
        Directory.CreateDirectory(request.TargetDir);
        foreach (var file in files)
            await FetchFileAsync(hub, request, commit, file, ct);
        var manifest = new FetchManifest(request.Repo, request.Revision, commit, files);
        manifest.Write(request.TargetDir);
        log.WriteLine($"{request.Repo}@{commit[..Math.Min(12, commit.Length)]}: {files.Count} files in {request.TargetDir}");
        return manifest;
    }

    /// <summary>
    /// The hub token in <paramref name="file"/>. An absent or empty file means no token (public repositories only), so a
    /// pod can mount an optional Secret there: a gated repository then fails with the hub's 401, which names the flag.
    /// </summary>
    private string? ReadToken(string? file)
    {
        var token = file is not null && File.Exists(file) ? File.ReadAllText(file).Trim() : "";
        if (token.Length > 0)
            return token;
        if (file is not null)
            log.WriteLine($"{file}: no token there (absent or empty): fetching without one, public repositories only");
        return null;
    }

    /// <summary>Every file the folder's manifest names, checked for size and digest; the problems found (none: valid).</summary>
    public IReadOnlyList<string> Verify(string folder)
    {
        var manifest = FetchManifest.Read(folder);
        if (manifest is null)
            return [$"{folder}: no {FetchManifest.FileName} (fetch it online first)"];
        var problems = new List<string>();
        foreach (var file in manifest.Files)
        {
            var local = LocalPath(folder, file);
            if (!File.Exists(local))
                problems.Add($"{file.Path}: missing");
            else if (!file.Matches(local))
                problems.Add($"{file.Path}: size or {file.Digest.Split(':')[0]} differs from {manifest.Repo}@{manifest.Commit}");
        }
        log.WriteLine(problems.Count == 0
            ? $"{folder}: {manifest.Files.Count} files match {manifest.Repo}@{manifest.Commit}"
            : $"{folder}: {problems.Count} of {manifest.Files.Count} files do not match");
        return problems;
    }

    private async Task FetchFileAsync(HubClient hub, FetchRequest request, string commit, HubFile file, CancellationToken ct)
    {
        var local = LocalPath(request.TargetDir, file);
        if (file.Matches(local))
        {
            log.WriteLine($"{file.Path}: up to date");
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(local)!);
        var partial = local + PartialSuffix;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await hub.DownloadAsync(request.Repo, commit, file, partial, ct);
                break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException && attempt < Attempts && !ct.IsCancellationRequested)
            {
                var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
                log.WriteLine($"{file.Path}: transfer broke at {have} of {file.Size} bytes ({e.Message}); resuming");
            }
        }
        if (!file.Matches(partial))
        {
            var got = FileDigest.Of(partial, file);
            File.Delete(partial);
            throw new HubFetchException($"{file.Path}: downloaded bytes hash to {got}, the hub lists {file.Digest}; deleted, not kept");
        }
        File.Move(partial, local, overwrite: true);
        log.WriteLine($"{file.Path}: {file.Size} bytes, {file.Digest}");
    }

    // The hub's path, kept inside the target folder: a listed name that climbs out of it is refused.
    private static string LocalPath(string folder, HubFile file)
    {
        var root = Path.GetFullPath(folder);
        var local = Path.GetFullPath(Path.Combine(root, file.Path));
        if (!local.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new HubFetchException($"'{file.Path}' is outside the target folder; refused");
        return local;
    }
}
