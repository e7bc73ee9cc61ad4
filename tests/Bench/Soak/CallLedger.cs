using System.Collections.Concurrent;
using Grpc.Core;

namespace MultiModal.Tests.Bench.Soak;

/// <summary>
/// Counts every call the soak makes by operation and final status, and which ended with a status the operation does
/// not allow (a good request failing, a bad one not refused with INVALID_ARGUMENT). Calls started but never ended
/// (hung) are the difference between <see cref="Started"/> and <see cref="Ended"/>.
/// </summary>
public sealed class CallLedger
{
    private readonly ConcurrentDictionary<(string Op, StatusCode Code), long> _counts = new();
    private readonly ConcurrentQueue<string> _unexpected = new();
    private long _started, _ended, _unexpectedCount;

    public long Started => Interlocked.Read(ref _started);
    public long Ended => Interlocked.Read(ref _ended);
    public long Unexpected => Interlocked.Read(ref _unexpectedCount);

    /// <summary>Runs <paramref name="call"/>, recording OK or its RpcException's status against <paramref name="allowed"/>.</summary>
    public async Task RunAsync(string op, StatusCode[] allowed, Func<Task> call)
    {
        Interlocked.Increment(ref _started);
        StatusCode code;
        string? detail = null;
        try
        {
            await call();
            code = StatusCode.OK;
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
            detail = e.Status.Detail;
        }
        catch (Exception e)
        {
            code = StatusCode.Unknown;
            detail = e.GetType().Name + ": " + e.Message;
        }
        Interlocked.Increment(ref _ended);
        _counts.AddOrUpdate((op, code), 1, (_, n) => n + 1);
        if (Array.IndexOf(allowed, code) < 0)
        {
            Interlocked.Increment(ref _unexpectedCount);
            if (_unexpected.Count < 20)
                _unexpected.Enqueue($"{op}: {code} {detail}");
        }
    }

    /// <summary>"op status count" lines, sorted, then the first unexpected outcomes.</summary>
    public IEnumerable<string> Report() =>
        _counts.OrderBy(kv => kv.Key.Op).ThenBy(kv => kv.Key.Code).Select(kv => $"{kv.Key.Op,-32} {kv.Key.Code,-18} {kv.Value}")
            .Concat(_unexpected.Select(u => "UNEXPECTED " + u));
}
