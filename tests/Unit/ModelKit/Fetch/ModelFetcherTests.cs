using MultiModal.ModelKit.Fetch;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Unit.ModelKit.Fetch;

/// <summary><c>ModelKit fetch</c> against a loopback server that speaks the hub's layout (<see cref="FakeHub"/>).</summary>
public sealed class ModelFetcherTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("fetch-").FullName;
    private readonly StringWriter log = new();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private FetchRequest Request(FakeHub hub, string? tokenFile = null, params string[] patterns) =>
        new(FakeHub.Repo, Path.Combine(folder, "model"), "main", patterns, hub.Endpoint, tokenFile, Offline: false);

    private ModelFetcher Fetcher(HttpClient http) => new(http, log);

    private string TokenFile()
    {
        var path = Path.Combine(folder, "token");
        File.WriteAllText(path, FakeHub.Token + "\n");
        return path;
    }

    [Fact]
    public async Task Fetch_GatedRepoWithTokenAndPatterns_MatchingFilesVerifiedInPlaceTokenNeverSentToCdn()
    {
        await using var hub = new FakeHub(gated: true);
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();

        var manifest = await Fetcher(http).FetchAsync(Request(hub, TokenFile(), "*.json", "*.safetensors")).DefaultTimeout();

        var target = Path.Combine(folder, "model");
        Assert.Equal(FakeHub.Commit, manifest.Commit);
        Assert.Equal(["config.json", "model.safetensors", "unet/diffusion_pytorch_model.safetensors"], manifest.Files.Select(f => f.Path).Order());
        foreach (var file in manifest.Files)
            Assert.Equal(hub.Bytes(file.Path), File.ReadAllBytes(Path.Combine(target, file.Path)));
        Assert.False(File.Exists(Path.Combine(target, "README.md")));
        Assert.Empty(Directory.GetFiles(target, "*" + ModelFetcher.PartialSuffix, SearchOption.AllDirectories));
        Assert.All(hub.HubRequests, r => Assert.Equal($"Bearer {FakeHub.Token}", r.Authorization));
        Assert.Equal(2, hub.CdnRequests.Count);                        // both LFS files went through the redirect
        Assert.All(hub.CdnRequests, r => Assert.Null(r.Authorization));
    }

    [Fact]
    public async Task Fetch_GatedRepoWithoutToken_Fails401AndWritesNothing()
    {
        await using var hub = new FakeHub(gated: true);
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();

        var error = await Assert.ThrowsAsync<HubFetchException>(() => Fetcher(http).FetchAsync(Request(hub))).DefaultTimeout();

        Assert.Contains("401", error.Message);
        Assert.Contains("--token-file", error.Message);
        Assert.False(Directory.Exists(Path.Combine(folder, "model")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Fetch_TokenFileAbsentOrEmpty_PublicRepoFetchedWithoutToken(bool fileExists)
    {
        await using var hub = new FakeHub();
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();
        var tokenFile = Path.Combine(folder, "secret", "token");            // an optional Secret's mount, Secret absent
        if (fileExists)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(tokenFile)!);
            File.WriteAllText(tokenFile, "\n");
        }

        var manifest = await Fetcher(http).FetchAsync(Request(hub, tokenFile, "config.json")).DefaultTimeout();

        Assert.Equal(["config.json"], manifest.Files.Select(f => f.Path));
        Assert.All(hub.HubRequests, r => Assert.Null(r.Authorization));
        Assert.Contains($"{tokenFile}: no token there", log.ToString());
    }

    [Fact]
    public async Task Fetch_GatedRepoTokenFileAbsent_Fails401NamingTheFlag()
    {
        await using var hub = new FakeHub(gated: true);
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();

        var error = await Assert.ThrowsAsync<HubFetchException>(
            () => Fetcher(http).FetchAsync(Request(hub, Path.Combine(folder, "absent"), "config.json"))).DefaultTimeout();

        Assert.Contains("401", error.Message);
        Assert.Contains("--token-file", error.Message);
        Assert.False(Directory.Exists(Path.Combine(folder, "model")));
    }

    [Fact]
    public async Task Fetch_TransferCutMidFile_ResumesWithRangeFromBytesKept()
    {
        await using var hub = new FakeHub();
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();
        hub.BreakNextTransferAfter = 1_000_000;

        await Fetcher(http).FetchAsync(Request(hub, null, "model.safetensors")).DefaultTimeout();

        var requests = hub.CdnRequests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Null(requests[0].Range);
        Assert.Equal(1_000_000, requests[0].BytesSent);
        // The second request starts where the kept bytes end (what reached the client before the reset: some of the
        // 1,000,000 sent may die in the socket buffers) and sends only the rest: resumed, not restarted.
        Assert.StartsWith("bytes=", requests[1].Range);
        var from = long.Parse(requests[1].Range!["bytes=".Length..^1]);
        Assert.InRange(from, 1, 1_000_000);
        Assert.Equal(hub.Bytes("model.safetensors").Length - from, requests[1].BytesSent);
        Assert.Equal(hub.Bytes("model.safetensors"), File.ReadAllBytes(Path.Combine(folder, "model", "model.safetensors")));
        Assert.Contains("resuming", log.ToString());
    }

    [Fact]
    public async Task Fetch_PartialFileFromEarlierRun_ResumedNotRestarted()
    {
        await using var hub = new FakeHub();
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();
        var target = Path.Combine(folder, "model");
        Directory.CreateDirectory(target);
        File.WriteAllBytes(Path.Combine(target, "model.safetensors" + ModelFetcher.PartialSuffix), hub.Bytes("model.safetensors")[..12345]);

        await Fetcher(http).FetchAsync(Request(hub, null, "model.safetensors")).DefaultTimeout();

        Assert.Equal("bytes=12345-", Assert.Single(hub.CdnRequests).Range);
        Assert.Equal(hub.Bytes("model.safetensors"), File.ReadAllBytes(Path.Combine(target, "model.safetensors")));
    }

    [Fact]
    public async Task Fetch_BytesNotMatchingListedSha256_RefusedAndNoFileLeft()
    {
        await using var hub = new FakeHub { CorruptLfs = true };
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();

        var error = await Assert.ThrowsAsync<HubFetchException>(() => Fetcher(http).FetchAsync(Request(hub, null, "model.safetensors"))).DefaultTimeout();

        Assert.Contains("model.safetensors", error.Message);
        Assert.Contains("sha256:", error.Message);
        var target = Path.Combine(folder, "model");
        Assert.False(File.Exists(Path.Combine(target, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(target, "model.safetensors" + ModelFetcher.PartialSuffix)));
        Assert.False(File.Exists(Path.Combine(target, FetchManifest.FileName)));
    }

    [Fact]
    public async Task Fetch_SecondRunWithFilesInPlace_DownloadsNothing()
    {
        await using var hub = new FakeHub();
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();
        await Fetcher(http).FetchAsync(Request(hub)).DefaultTimeout();
        var cdn = hub.CdnRequests.Count;
        var resolves = hub.HubRequests.Count(r => r.Path.Contains("/resolve/"));

        await Fetcher(http).FetchAsync(Request(hub)).DefaultTimeout();

        Assert.Equal(cdn, hub.CdnRequests.Count);
        Assert.Equal(resolves, hub.HubRequests.Count(r => r.Path.Contains("/resolve/")));
        Assert.Contains("up to date", log.ToString());
    }

    [Fact]
    public async Task Verify_Offline_ValidAfterFetchThenNamesTheChangedFile()
    {
        await using var hub = new FakeHub();
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();
        await Fetcher(http).FetchAsync(Request(hub)).DefaultTimeout();
        var target = Path.Combine(folder, "model");
        Assert.Empty(Fetcher(http).Verify(target));

        var config = Path.Combine(target, "config.json");
        var bytes = File.ReadAllBytes(config);
        bytes[3] ^= 1;
        File.WriteAllBytes(config, bytes);
        File.Delete(Path.Combine(target, "unet", "diffusion_pytorch_model.safetensors"));

        var problems = Fetcher(http).Verify(target);
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("config.json:") && p.Contains("git-sha1"));
        Assert.Contains(problems, p => p.StartsWith("unet/diffusion_pytorch_model.safetensors: missing"));
    }

    [Fact]
    public async Task Fetch_ListedPathOutsideTheFolder_Refused()
    {
        await using var hub = new FakeHub();
        hub.ExtraListedPaths.Add("../escape.txt");
        await hub.StartAsync().DefaultTimeout();
        using var http = FetchCommand.CreateHttpClient();

        var error = await Assert.ThrowsAsync<HubFetchException>(() => Fetcher(http).FetchAsync(Request(hub, null, "*.txt"))).DefaultTimeout();

        Assert.Contains("outside the target folder", error.Message);
        Assert.False(File.Exists(Path.Combine(folder, "escape.txt")));
    }

    [Theory]
    [InlineData("*.json", "config.json", true)]
    [InlineData("*.json", "text_encoder/config.json", true)]
    [InlineData("unet/*", "unet/diffusion_pytorch_model.safetensors", true)]
    [InlineData("unet/*", "vae/diffusion_pytorch_model.safetensors", false)]
    [InlineData("*.safetensors", "model.safetensors.index.json", false)]
    [InlineData("**/*.bin", "a/b/c.bin", true)]
    [InlineData("model-?.bin", "model-1.bin", true)]
    public void GlobPattern_HubStylePatterns_MatchAsHuggingfaceHub(string pattern, string path, bool matches) =>
        Assert.Equal(matches, new GlobPattern(pattern).IsMatch(path));

    [Fact]
    public void Parse_CommandLine_AllOptions()
    {
        var request = FetchCommand.Parse(["fetch", "llava-hf/llava-1.5-7b-hf", "--to", "/models/llava", "--revision", "abc",
            "--files", "*.json, *.safetensors", "--endpoint", "http://mirror:8080", "--token-file", "/run/secrets/hf", "--offline"]);

        Assert.NotNull(request);
        Assert.Equal("llava-hf/llava-1.5-7b-hf", request.Repo);
        Assert.Equal(["*.json", "*.safetensors"], request.Patterns);
        Assert.Equal(new Uri("http://mirror:8080/"), request.Endpoint);
        Assert.Equal(("abc", "/run/secrets/hf", true), (request.Revision, request.TokenFile, request.Offline));
        Assert.Null(FetchCommand.Parse(["fetch", "not-a-repo", "--to", "/x"]));
        Assert.Null(FetchCommand.Parse(["fetch", "org/name"]));
    }
}
