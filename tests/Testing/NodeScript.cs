using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace MultiModal.Tests.Testing;

/// <summary>
/// A Node test script in a folder with its own pinned package-lock.json (the openai SDK test, the playground's browser
/// test): installs the packages once with <c>npm ci</c> (CI's fresh clone; no network afterwards), runs the script
/// under a hang guard, and reads the one JSON line per case it prints (<c>{"case": …, "ok": …}</c>).
/// </summary>
public sealed class NodeScript(string folder)
{
    /// <summary>The script's folder (where package.json and the lock file are).</summary>
    public string Folder { get; } = folder;

    /// <summary><c>npm ci</c> from the committed lock file unless <paramref name="package"/> is installed already.</summary>
    public async Task EnsurePackagesAsync(string package)
    {
        if (File.Exists(Path.Combine(Folder, "node_modules", package, "package.json")))
            return;
        var (exit, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], [], TimeSpan.FromMinutes(3));
        Assert.True(exit == 0, "npm ci failed:\n" + output);
    }

    /// <summary>Runs <paramref name="file"/> in the folder; past <paramref name="timeout"/> it is killed and the test fails with its output so far.</summary>
    public async Task<(int Exit, string Output)> RunAsync(string file, string[] args, Dictionary<string, string> env, TimeSpan timeout)
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
            await process.WaitForExitAsync().DefaultTimeout();
            Assert.Fail($"{file} {string.Join(' ', args)} ran over {timeout}; its output:\n{await stdout.DefaultTimeout()}{await stderr.DefaultTimeout()}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>
    /// Asserts the script printed exactly <paramref name="cases"/>, each with <c>"ok": true</c>, and exited 0; the
    /// failing cases and the whole output are the message otherwise.
    /// </summary>
    public static void AssertEveryCasePassed(IReadOnlyCollection<string> cases, int exit, string output)
    {
        var results = output.Split('\n').Where(l => l.StartsWith("{\"case\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement).ToDictionary(r => r.GetProperty("case").GetString()!);
        Assert.Equal(cases, results.Keys);
        var failures = results.Values.Where(r => !r.GetProperty("ok").GetBoolean()).Select(r => r.ToString()).ToArray();
        Assert.True(failures.Length == 0, string.Join("\n", failures) + "\n" + output);
        Assert.Equal(0, exit);
    }
}
