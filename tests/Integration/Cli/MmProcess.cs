using System.Diagnostics;
using MultiModal.Tests.Testing;

namespace MultiModal.Tests.Integration.Cli;

/// <summary>What one run of <c>mm</c> did.</summary>
public sealed record MmResult(int ExitCode, string Stdout, string Stderr, string WorkingDirectory)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs the built <c>mm</c> (<c>dotnet cli/bin/&lt;Configuration&gt;/net10.0/MultiModal.Cli.dll</c>, what <c>./mm</c>
/// runs) as a child process in a fresh temporary folder, with stdout and stderr redirected (not a terminal: plain output).
/// </summary>
public static class MmProcess
{
    public static string Dll => BuildOutputs.Dll("cli", "Cli");

    public static async Task<MmResult> RunAsync(string gateway, IEnumerable<string> arguments, string? apiKey = null, string? workingDirectory = null)
    {
        workingDirectory ??= Directory.CreateTempSubdirectory("mm-").FullName;
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[Dll, .. arguments])
            startInfo.ArgumentList.Add(argument);
        startInfo.Environment["MM_GATEWAY"] = gateway;
        if (apiKey is null)
            startInfo.Environment.Remove("MM_API_KEY");
        else
            startInfo.Environment["MM_API_KEY"] = apiKey;
        startInfo.Environment.Remove("MM_INLINE_IMAGES");

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().DefaultTimeout();
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        return new MmResult(process.ExitCode, await stdout.DefaultTimeout(), await stderr.DefaultTimeout(), workingDirectory);
    }
}
