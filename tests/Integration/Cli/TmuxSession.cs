using System.Diagnostics;
using System.Text.RegularExpressions;
using MultiModal.Tests.Testing;

namespace MultiModal.Tests.Integration.Cli;

/// <summary>
/// A terminal a test can type into and read: a detached tmux session of a fixed size on a tmux server of its own
/// (<c>-L</c> socket, no config file), running bash. <see cref="WaitForAsync"/> polls <c>capture-pane</c> until the
/// screen shows what the test waits for.
/// </summary>
public sealed class TmuxSession : IDisposable
{
    private readonly string _socket = $"mm-test-{Environment.ProcessId}-{Guid.NewGuid():N}";

    private TmuxSession()
    {
    }

    /// <summary>Starts bash in a <paramref name="width"/>×<paramref name="height"/> pane in <paramref name="workingDirectory"/>.</summary>
    public static async Task<TmuxSession> StartAsync(int width, int height, string workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        var session = new TmuxSession();
        string[] variables = [.. environment.SelectMany(e => new[] { "-e", $"{e.Key}={e.Value}" })];
        await session.TmuxAsync(["new-session", "-d", "-s", "mm", "-x", $"{width}", "-y", $"{height}", "-c", workingDirectory,
            .. variables, "bash --norc --noprofile"]);
        return session;
    }

    /// <summary><c>tmux send-keys</c>: literal text with <c>-l</c>, or key names such as <c>Enter</c> and <c>C-c</c>.</summary>
    public Task TypeAsync(string text) => TmuxAsync(["send-keys", "-t", "mm", "-l", text]);

    public Task PressAsync(string key) => TmuxAsync(["send-keys", "-t", "mm", key]);

    /// <summary>What the pane shows now (<c>capture-pane -p</c>).</summary>
    public Task<string> CaptureAsync() => TmuxAsync(["capture-pane", "-p", "-t", "mm"]);

    /// <summary>
    /// Captures the pane until a match of <paramref name="pattern"/> satisfies <paramref name="condition"/> (the last
    /// match on screen), for at most <see cref="Testing.TaskExtensions.DefaultTimeoutSpan"/>; the timeout's message shows the screen.
    /// </summary>
    public async Task<Match> WaitForAsync(Regex pattern, Func<Match, bool>? condition = null)
    {
        var deadline = DateTime.UtcNow + Testing.TaskExtensions.DefaultTimeoutSpan;
        var screen = "";
        while (DateTime.UtcNow < deadline)
        {
            screen = await CaptureAsync();
            if (pattern.Matches(screen) is { Count: > 0 } matches && (condition ?? (_ => true))(matches[^1]))
                return matches[^1];
            await Task.Delay(20);
        }
        throw new TimeoutException($"the pane never showed {pattern} as expected; it shows:\n{screen}");
    }

    private async Task<string> TmuxAsync(string[] arguments)
    {
        var startInfo = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-L", _socket, "-f", "/dev/null", .. arguments])
            startInfo.ArgumentList.Add(argument);
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"tmux {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}");
        return await output;
    }

    public void Dispose()
    {
        using var kill = Process.Start(new ProcessStartInfo("tmux", ["-L", _socket, "kill-server"]) { UseShellExecute = false, RedirectStandardError = true });
        kill?.WaitForExit(5000);
    }
}
