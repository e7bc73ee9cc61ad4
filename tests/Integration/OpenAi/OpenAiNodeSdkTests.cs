using System.Diagnostics;
using System.Text.Json;
using MultiModal.Tests.Integration.Vision;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.OpenAi;

/// <summary>
/// The official <c>openai</c> npm package (pinned in OpenAi/node/package.json; Node 20), unmodified apart from base URL
/// and key: OpenAi/node/sdk-test.mjs runs every case against the fleet and prints one JSON line per case.
/// </summary>
[Collection(OpenAiFleetCollection.Name)]
public sealed class OpenAiNodeSdkTests(OpenAiFleetFixture fleet)
{
    private static readonly string[] Cases =
    [
        "embeddings_both_encodings", "chat_image_object_form", "chat_image_string_form", "chat_stream_with_usage",
        "image_generation_b64_json", "image_stream_partial_images", "image_edit", "models_list", "error_bad_key_401",
        "error_bad_size_400_param",
    ];

    private static string Folder => Path.Combine(TestPaths.RepoRoot, "tests", "Integration", "OpenAi", "node");

    [Fact]
    public async Task NodeSdk_EveryCase_Passes()
    {
        await EnsurePackageAsync();
        var picture = Path.Combine(Directory.CreateTempSubdirectory("openai-node-").FullName, "picture.png");
        await File.WriteAllBytesAsync(picture, fleet.ImageHost.Png);
        var (exit, output) = await RunAsync("node", ["sdk-test.mjs"], new()
        {
            ["OPENAI_BASE_URL"] = new Uri(fleet.Gateway.Address, "/v1").ToString(),
            ["OPENAI_API_KEY"] = OpenAiFleetFixture.Key,
            ["IMAGE_PNG"] = picture,
            ["INIT_PNG"] = TestPaths.Fixture("tiny-sd", "img2img_init_64x64.png"),
            ["IMAGE_URL"] = $"http://img.localtest:{fleet.ImageHost.Port}/image.png",
            ["SERVED_VISION"] = Path.GetFileName(VisionFleetFixture.ModelFolder),
        }, TimeSpan.FromMinutes(4));

        var results = output.Split('\n').Where(l => l.StartsWith("{\"case\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(r => r.GetProperty("case").GetString()!);
        Assert.Equal(Cases, results.Keys);
        var failures = results.Values.Where(r => !r.GetProperty("ok").GetBoolean()).Select(r => r.ToString()).ToArray();
        Assert.True(failures.Length == 0, string.Join("\n", failures) + "\n" + output);
        Assert.Equal(0, exit);
    }

    // `npm ci` from the committed lock file the first time (CI's fresh clone), bounded; no network afterwards.
    private static async Task EnsurePackageAsync()
    {
        if (File.Exists(Path.Combine(Folder, "node_modules", "openai", "package.json")))
            return;
        var (exit, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], [], TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, "npm ci failed:\n" + output);
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] args, Dictionary<string, string> env, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }
}
