namespace MultiModal.ModelKit.Fetch;

/// <summary>
/// <c>ModelKit fetch &lt;org/name&gt; --to &lt;dir&gt; [--revision main] [--files "*.json,*.safetensors"]
/// [--endpoint https://huggingface.co] [--token-file &lt;file&gt;] [--offline]</c>. Exit 0 done/valid, 1 failed, 2 usage.
/// </summary>
public static class FetchCommand
{
    public const string Usage =
        "ModelKit fetch <org/name> --to <dir> [--revision <branch|tag|sha>] [--files <glob>[,<glob>...]] " +
        "[--endpoint <url>] [--token-file <file>] [--offline]";

    /// <summary>Default hub address: <c>HF_ENDPOINT</c> as huggingface_hub reads it, else huggingface.co.</summary>
    public static Uri DefaultEndpoint => new(Environment.GetEnvironmentVariable("HF_ENDPOINT") is { Length: > 0 } e ? e : "https://huggingface.co");

    public static async Task<int> RunAsync(string[] args)
    {
        var request = Parse(args);
        if (request is null)
        {
            Console.Error.WriteLine("usage: " + Usage);
            return 2;
        }
        using var http = CreateHttpClient();
        var fetcher = new ModelFetcher(http, Console.Out);
        try
        {
            if (request.Offline)
            {
                var problems = fetcher.Verify(request.TargetDir);
                foreach (var problem in problems)
                    Console.Error.WriteLine(problem);
                return problems.Count == 0 ? 0 : 1;
            }
            await fetcher.FetchAsync(request);
            return 0;
        }
        catch (HubFetchException e)
        {
            Console.Error.WriteLine($"fetch failed: {e.Message}");
            return 1;
        }
    }

    /// <summary>Redirects are followed by <see cref="HubClient"/> itself (the token stays on the hub's host).</summary>
    public static HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        ConnectTimeout = TimeSpan.FromSeconds(30),
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    public static FetchRequest? Parse(string[] args)
    {
        var repo = args.ElementAtOrDefault(1);
        var to = Option(args, "--to");
        if (repo is null || repo.StartsWith("--", StringComparison.Ordinal) || repo.Split('/').Length != 2 || to is null)
            return null;
        var patterns = (Option(args, "--files") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var endpoint = Option(args, "--endpoint") is { } e ? new Uri(e.EndsWith('/') ? e : e + "/") : DefaultEndpoint;
        if (!endpoint.AbsoluteUri.EndsWith('/'))
            endpoint = new Uri(endpoint.AbsoluteUri + "/");
        return new FetchRequest(repo, to, Option(args, "--revision") ?? "main", patterns, endpoint,
            Option(args, "--token-file"), args.Contains("--offline"));
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
