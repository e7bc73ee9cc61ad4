using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace MultiModal.Tests.Testing;

/// <summary>
/// A service started as a real child process, <c>dotnet &lt;dll&gt; --urls http://127.0.0.1:0 &lt;args&gt;</c>, and
/// considered up once Kestrel logs <c>Now listening on: http://127.0.0.1:&lt;port&gt;</c>. Disposing kills the
/// process tree. Its stdout and stderr are kept in <see cref="Output"/> for failure messages.
/// </summary>
public sealed partial class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _exited;

    private ServiceProcess(Process process)
    {
        _process = process;
        Name = Path.GetFileName(process.StartInfo.ArgumentList[0]);
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        // WaitForExitAsync also waits for the redirected streams to end, so Output is complete afterwards.
        _exited = _process.WaitForExitAsync();
        _exited.ContinueWith(_ => _listening.TrySetException(new InvalidOperationException(
            $"{Name} exited before listening.\n{Output}")), TaskScheduler.Default);
    }

    /// <summary>The address Kestrel reported, e.g. <c>http://127.0.0.1:41235</c>.</summary>
    public Uri Address => _listening.Task.IsCompletedSuccessfully
        ? _listening.Task.Result
        : throw new InvalidOperationException($"{Name} is not listening.");

    /// <summary>Everything the process wrote to stdout and stderr so far, one line per write.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>
    /// Waits until the output has more than <paramref name="seen"/> lines matching <paramref name="pattern"/> and
    /// returns the next one (count the matches before the action under test, then wait for the one it logs).
    /// </summary>
    public async Task<System.Text.RegularExpressions.Match> WaitForLogAsync(System.Text.RegularExpressions.Regex pattern, int seen)
    {
        var deadline = DateTime.UtcNow + TaskExtensions.DefaultTimeoutSpan;
        while (true)
        {
            var matches = pattern.Matches(Output);
            if (matches.Count > seen)
                return matches[seen];
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no log line of {Name} matching {pattern} in:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// How long <see cref="StartAsync"/> waits for the listening line: a hang guard, not a speed bound. A process that
    /// fails ends the wait at once (it exits), but a healthy start (runtime start-up, JIT, loading the model) took over
    /// 30 s on the 2-core test machine under load (load average 57, 2026-12-05), so the wait is 2 minutes.
    /// </summary>
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The operating system's id of the process (for /proc sampling in the soak and overload benches).</summary>
    public int ProcessId => _process.Id;

    /// <summary>The dll's file name, for messages.</summary>
    public string Name { get; }

    /// <summary>Starts <paramref name="dllPath"/> on a free loopback port and waits until it listens.</summary>
    /// <param name="dllPath">The service's entry assembly, e.g. from <see cref="BuildOutputs.Dll"/>.</param>
    /// <param name="arguments">Extra command-line arguments, e.g. <c>--Gateway:Upstreams:Clip=http://...</c>.</param>
    /// <param name="environment">Extra environment variables (null values remove inherited ones); GLIBC_TUNABLES is the
    /// services' (<see cref="MultiModal.Models.Runtime.TorchRuntime.ServiceMallocTunables"/>) unless inherited or given here.</param>
    /// <param name="startTimeout">How long to wait for the listening line; default <see cref="DefaultStartTimeout"/>.</param>
    /// <exception cref="TimeoutException">No listening line in time (the message carries the output).</exception>
    /// <exception cref="InvalidOperationException">The process exited before listening.</exception>
    public static async Task<ServiceProcess> StartAsync(
        string dllPath,
        IEnumerable<string>? arguments = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        TimeSpan? startTimeout = null)
    {
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            // The content root is the working directory: start there so the service finds its appsettings.json.
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(dllPath))!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[dllPath, "--urls", "http://127.0.0.1:0", .. arguments ?? []])
            startInfo.ArgumentList.Add(argument);
        // glibc malloc from process start as build/run-fleet.sh, the Makefile and the images start the services
        // (TorchRuntime.ServiceMallocTunables), unless this process's environment or the caller sets its own.
        if (!startInfo.Environment.ContainsKey("GLIBC_TUNABLES"))
            startInfo.Environment["GLIBC_TUNABLES"] = MultiModal.Models.Runtime.TorchRuntime.ServiceMallocTunables;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            startInfo.Environment[name] = value;

        var service = new ServiceProcess(new Process { StartInfo = startInfo });
        try
        {
            await service._listening.Task.WaitAsync(startTimeout ?? DefaultStartTimeout);
            return service;
        }
        catch (TimeoutException)
        {
            service.Dispose();
            throw new TimeoutException($"{service.Name} did not report a listening address in time.\n{service.Output}");
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the process has exited and its output has been read to the end.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _exited.WaitAsync(cancellationToken);

    /// <summary>The exit code, once <see cref="WaitForExitAsync"/> completed.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Sends SIGTERM, what Kubernetes sends on a rolling update (<c>kill -TERM &lt;pid&gt;</c>; <see cref="Process.Kill()"/>
    /// would be SIGKILL). The service drains and exits by itself: await <see cref="WaitForExitAsync"/>.
    /// </summary>
    public async Task SendSigtermAsync()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
        })!;
        await kill.WaitForExitAsync().WaitAsync(TaskExtensions.DefaultTimeoutSpan);
        if (kill.ExitCode != 0)
            throw new InvalidOperationException($"kill -TERM {_process.Id} exited with {kill.ExitCode}");
    }

    /// <summary>Kills the process and its children, then waits briefly for it to go.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped: nothing left to kill.
        }
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
        if (ListeningLine().Match(line) is { Success: true } match)
            _listening.TrySetResult(new Uri(match.Groups["address"].Value));
    }

    [GeneratedRegex(@"Now listening on: (?<address>http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
