using Google.Rpc;
using Grpc.Core;

namespace MultiModal.Tests.Integration.Overload;

/// <summary>How the calls of a burst ended.</summary>
/// <param name="Ok">Served.</param>
/// <param name="Shed">RESOURCE_EXHAUSTED carrying ErrorInfo QUEUE_FULL and RetryInfo.</param>
/// <param name="DeadlineExceeded">Ran out of their deadline (allowed, counted).</param>
/// <param name="Unexpected">Any other ending (a shed without QUEUE_FULL or RetryInfo included), described.</param>
public sealed record BurstResult(long Started, long Ended, long Ok, long Shed, long DeadlineExceeded, IReadOnlyList<string> Unexpected);

/// <summary>
/// The CI version of <c>make bench-overload</c>: <c>clients</c> concurrent clients, each calling in a loop (a refused
/// call is retried at once) until the burst's time is up or it has made <c>maxCallsPerClient</c> calls. Every call
/// carries <c>callDeadline</c>, so the burst must end within its time plus one deadline (plus 10 s of slack): if it does
/// not, a call outlived its deadline (hung) and <see cref="RunAsync"/> throws <see cref="TimeoutException"/>.
/// </summary>
public static class OverloadBurst
{
    public static async Task<BurstResult> RunAsync(
        int clients, TimeSpan duration, int maxCallsPerClient, TimeSpan callDeadline, Func<DateTime, Task> call)
    {
        long started = 0, ended = 0, ok = 0, shed = 0, deadlineExceeded = 0;
        var unexpected = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var until = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            await Task.Yield();
            for (var i = 0; i < maxCallsPerClient && DateTime.UtcNow < until; i++)
            {
                Interlocked.Increment(ref started);
                try
                {
                    await call(DateTime.UtcNow + callDeadline);
                    Interlocked.Increment(ref ok);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted
                    && e.GetRpcStatus() is { } status && status.GetDetail<ErrorInfo>()?.Reason == "QUEUE_FULL" && status.GetDetail<RetryInfo>() is not null)
                {
                    Interlocked.Increment(ref shed);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
                {
                    Interlocked.Increment(ref deadlineExceeded);
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(e is RpcException r ? $"{r.StatusCode}: {r.Status.Detail} ({r.GetRpcStatus()})" : e.ToString());
                }
                finally
                {
                    Interlocked.Increment(ref ended);
                }
            }
        })).WaitAsync(duration + callDeadline + TimeSpan.FromSeconds(10));
        return new BurstResult(started, ended, ok, shed, deadlineExceeded, [.. unexpected]);
    }
}
