using Microsoft.Extensions.Options;
using MultiModal.Core.Errors;

namespace MultiModal.Core.Hosting.Drain;

/// <summary>
/// Whether the server is draining, and the gRPC calls in flight (counted by <see cref="DrainInterceptor"/>). Once
/// <see cref="Begin"/> ran, no call enters; <see cref="WaitForCallsAsync"/> completes when the last one left, and
/// <see cref="CancelRemaining"/> cancels those still running through the tokens their scopes gave them.
/// </summary>
public sealed class DrainState(IOptions<DrainOptions> options) : IDisposable
{
    private readonly object _gate = new();
    private readonly List<Func<InferenceException, int>> _queues = [];
    private readonly CancellationTokenSource _cancelRemaining = new();
    private TaskCompletionSource? _idle;
    private int _inFlight;
    private bool _draining;

    /// <summary>True once the drain began: readiness reports NOT_SERVING and new calls are refused.</summary>
    public bool IsDraining
    {
        get
        {
            lock (_gate)
                return _draining;
        }
    }

    /// <summary>How long running calls may go on once the drain began (<see cref="DrainOptions.DrainSeconds"/>).</summary>
    public TimeSpan DrainTime => options.Value.DrainTime;

    /// <summary>
    /// A queue's <c>RejectWaiting</c>: called when the drain begins with UNAVAILABLE / DRAINING, so that requests that
    /// have not started are answered at once (at once too if the drain already began).
    /// </summary>
    public void AddQueue(Func<InferenceException, int> rejectWaiting)
    {
        lock (_gate)
        {
            _queues.Add(rejectWaiting);
            if (!_draining)
                return;
        }
        rejectWaiting(InferenceException.Draining(DrainTime));
    }

    /// <summary>Calls that entered and have not left yet.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
                return _inFlight;
        }
    }

    /// <summary>
    /// Counts a call in, unless the drain began (then null: refuse the call). The scope's <see cref="CallScope.Token"/>
    /// fires with <paramref name="callToken"/> or when <see cref="CancelRemaining"/> runs; dispose it when the call ends.
    /// </summary>
    public CallScope? TryEnter(CancellationToken callToken)
    {
        lock (_gate)
        {
            if (_draining)
                return null;
            _inFlight++;
        }
        return new CallScope(this, CancellationTokenSource.CreateLinkedTokenSource(callToken, _cancelRemaining.Token));
    }

    /// <summary>
    /// Begins the drain: from now on <see cref="TryEnter"/> refuses, and every queue added with <see cref="AddQueue"/>
    /// answers its waiting requests. Returns the calls in flight at that moment (the rejected ones included: they
    /// leave at once) and how many waiting requests the queues rejected, or null if the drain had already begun.
    /// </summary>
    public (int InFlight, int Rejected)? Begin()
    {
        int inFlight;
        Func<InferenceException, int>[] queues;
        lock (_gate)
        {
            if (_draining)
                return null;
            _draining = true;
            inFlight = _inFlight;
            queues = [.. _queues];
        }
        var reason = InferenceException.Draining(DrainTime);
        var rejected = 0;
        foreach (var rejectWaiting in queues)
            rejected += rejectWaiting(reason);
        return (inFlight, rejected);
    }

    /// <summary>Completes once no call is in flight (at once if none is); callers bound it with their own timeout.</summary>
    public Task WaitForCallsAsync()
    {
        lock (_gate)
        {
            if (_inFlight == 0)
                return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>Cancels every call still in flight (their scopes' tokens fire); returns how many there were.</summary>
    public int CancelRemaining()
    {
        var remaining = InFlight;
        _cancelRemaining.Cancel();
        return remaining;
    }

    public void Dispose()
    {
        _cancelRemaining.Dispose();
    }

    private void Leave()
    {
        TaskCompletionSource? idle = null;
        lock (_gate)
        {
            if (--_inFlight == 0)
                (idle, _idle) = (_idle, null);
        }
        idle?.TrySetResult();
    }

    /// <summary>One call in flight: its token (the call's own, or the drain's cancellation at the limit).</summary>
    public sealed class CallScope : IDisposable
    {
        private readonly DrainState _owner;
        private readonly CancellationTokenSource _linked;
        private int _disposed;

        internal CallScope(DrainState owner, CancellationTokenSource linked) => (_owner, _linked) = (owner, linked);

        /// <summary>Fires when the call's own token fires or when the drain cancels the calls left at its limit.</summary>
        public CancellationToken Token => _linked.Token;

        /// <summary>True once the drain cancelled the calls left at its limit.</summary>
        public bool CancelledByDrain => _owner._cancelRemaining.IsCancellationRequested;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1)
                return;
            _linked.Dispose();
            _owner.Leave();
        }
    }
}
