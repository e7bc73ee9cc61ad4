using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MultiModal.Core.Logging;

namespace MultiModal.Core.Hosting.Drain;

/// <summary>
/// What a rolling update needs when the pod gets SIGTERM. The host's stop begins here, before Kestrel stops
/// (<see cref="IHostedLifecycleService.StoppingAsync"/> runs before any hosted service's StopAsync):
/// readiness turns NOT_SERVING and new calls are refused with UNAVAILABLE / DRAINING (<see cref="DrainState.Begin"/>),
/// requests waiting in the queues are answered the same at once, running calls and streams may finish for up to
/// <see cref="DrainOptions.DrainSeconds"/>, then those left are cancelled with UNAVAILABLE / DRAINING; then Kestrel
/// stops, the runners dispose their models, and the process exits 0. Each step is logged with its time.
/// </summary>
internal sealed class GracefulDrain(DrainState drain, ServiceIdentity service, ILogger<GracefulDrain> logger)
    : IHostedLifecycleService, IDisposable
{
    /// <summary>How long the calls cancelled at the limit get to send their status before Kestrel stops.</summary>
    private static readonly TimeSpan CancelGrace = TimeSpan.FromSeconds(2);

    private PosixSignalRegistration? _sigterm;
    private long _drainStarted;   // Stopwatch timestamp; 0 until the host began to stop

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Only logs: the host's console lifetime turns SIGTERM into the stop request that drains (StoppingAsync).
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM,
            _ => CoreLog.SigtermReceived(logger, service.Name, Environment.ProcessId, drain.DrainTime.TotalSeconds));
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <param name="cancellationToken">Fires at HostOptions.ShutdownTimeout (drain time + <see cref="DrainOptions.HostMargin"/>).</param>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var began = _drainStarted = Stopwatch.GetTimestamp();
        if (drain.Begin() is not var (inFlight, rejected))
            return;
        CoreLog.DrainStarted(logger, inFlight, rejected, drain.DrainTime.TotalSeconds);

        if (await WaitForCallsAsync(drain.DrainTime, cancellationToken))
        {
            CoreLog.Drained(logger, Ms(began), inFlight);
            return;
        }
        var cancelled = drain.CancelRemaining();
        CoreLog.DrainTimeRanOut(logger, drain.DrainTime.TotalSeconds, Ms(began), cancelled);
        if (await WaitForCallsAsync(CancelGrace, cancellationToken))
            CoreLog.CancelledCallsEnded(logger, cancelled, Ms(began));
        else
            CoreLog.CancelledCallsLinger(logger, drain.InFlight, Ms(began));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (_drainStarted != 0)
            CoreLog.HostStopped(logger, service.Name, Ms(_drainStarted));
        return Task.CompletedTask;
    }

    public void Dispose() => _sigterm?.Dispose();

    private async Task<bool> WaitForCallsAsync(TimeSpan limit, CancellationToken cancellationToken)
    {
        try
        {
            await drain.WaitForCallsAsync().WaitAsync(limit, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    private static double Ms(long since) => Stopwatch.GetElapsedTime(since).TotalMilliseconds;
}
