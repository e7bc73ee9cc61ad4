using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Rpc;
using Grpc.Core;

namespace MultiModal.Tests.Bench.Overload;

/// <summary>
/// How the calls of one phase ended: latencies of the accepted (OK) ones, sheds (RESOURCE_EXHAUSTED) with and
/// without RetryInfo, deadlines, anything else, and how many started but have not ended (hung).
/// </summary>
public sealed class CallOutcomes
{
    private readonly ConcurrentBag<double> _okMs = [];
    private readonly ConcurrentQueue<string> _others = new();
    private long _started, _ended, _shedWithRetry, _shedWithoutRetry, _deadline, _other;

    public long Started => Interlocked.Read(ref _started);
    public long Ended => Interlocked.Read(ref _ended);
    public long Ok => _okMs.Count;
    public long ShedWithRetryInfo => Interlocked.Read(ref _shedWithRetry);
    public long ShedWithoutRetryInfo => Interlocked.Read(ref _shedWithoutRetry);
    public long DeadlineExceeded => Interlocked.Read(ref _deadline);
    public long Other => Interlocked.Read(ref _other);
    public IEnumerable<string> OtherExamples => _others;

    /// <summary>Runs one call and files its final status.</summary>
    public async Task RunAsync(Func<Task> call)
    {
        Interlocked.Increment(ref _started);
        var watch = Stopwatch.StartNew();
        try
        {
            await call();
            _okMs.Add(watch.Elapsed.TotalMilliseconds);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.ResourceExhausted)
        {
            Interlocked.Increment(ref e.GetRpcStatus()?.GetDetail<RetryInfo>() is null ? ref _shedWithoutRetry : ref _shedWithRetry);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            Interlocked.Increment(ref _deadline);
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _other);
            if (_others.Count < 5)
                _others.Enqueue(e is RpcException r ? $"{r.StatusCode} {r.Status.Detail}" : $"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            Interlocked.Increment(ref _ended);
        }
    }

    /// <summary>The <paramref name="q"/> quantile (0..1) of the accepted calls' latency in ms, nearest rank.</summary>
    public double Percentile(double q)
    {
        var sorted = _okMs.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
