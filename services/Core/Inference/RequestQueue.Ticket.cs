using System.Diagnostics;
using MultiModal.Contracts.Common.V1;
using MultiModal.Core.Errors;

namespace MultiModal.Core.Inference;

internal sealed partial class RequestQueue<TRequest, TResult>
{
    /// <summary>
    /// One caller's request while it waits or runs; the owner completes it with Succeed, Fail or Cancel. The first
    /// completion wins: its outcome is counted (before the caller can see it) and later ones are ignored.
    /// </summary>
    public sealed class Ticket(
        RequestQueue<TRequest, TResult> owner, TRequest request, int size, DateTime deadline, CancellationToken cancellationToken)
    {
        // Timers cannot wait longer than ~49 days; a later deadline is checked again when the timer fires.
        private static readonly TimeSpan LongestTimer = TimeSpan.FromDays(30);

        private CancellationTokenRegistration _registration;
        private Timer? _deadlineTimer;
        private int _completed;
        private int _deadlinePassed;

        public TRequest Request { get; } = request;
        public int Size { get; } = size;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public DateTime Deadline { get; } = deadline;
        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

        /// <summary>When the worker took it (Stopwatch timestamp); 0 while it waits or if it never started.</summary>
        public long StartedAt { get; set; }

        // Continuations run on the thread pool, never inline on the worker thread that completes the task.
        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Its node in the waiting list; null once taken, cancelled or orphaned (guarded by the owner's gate).</summary>
        public LinkedListNode<Ticket>? Node { get; set; }

        public bool IsExpired(DateTime utcNow) =>
            Volatile.Read(ref _deadlinePassed) == 1 || (Deadline != DateTime.MaxValue && Deadline <= utcNow);

        /// <summary>Called once the ticket is in the waiting list: watches the caller's token and the deadline.</summary>
        internal void Watch()
        {
            _registration = CancellationToken.UnsafeRegister(static state => ((Ticket)state!).Cancel(), this);
            if (Deadline != DateTime.MaxValue)
            {
                ArmDeadline();
            }
        }

        /// <summary>
        /// Token callback, skip path and the owner's "stopped by its token" path: leaves the queue if still waiting and
        /// completes at once, cancelled, or DEADLINE_TOO_SHORT when the deadline has passed (the one deadline contract).
        /// </summary>
        public void Cancel()
        {
            Leave();
            if (IsExpired(DateTime.UtcNow))
            {
                Complete(QueueOutcome.DeadlineExceeded, t => t.Completion.TrySetException(InferenceException.DeadlineTooShort()));
            }
            else
            {
                Complete(QueueOutcome.Cancelled, t => t.Completion.TrySetCanceled(t.CancellationToken));
            }
        }

        public void Succeed(TResult result) => Complete(QueueOutcome.Completed, t => t.Completion.TrySetResult(result));

        /// <summary>The work failed (a DEADLINE_TOO_SHORT failure counts as <see cref="QueueOutcome.DeadlineExceeded"/>).</summary>
        public void Fail(Exception exception)
        {
            var outcome = exception is InferenceException { Reason: ErrorReason.DeadlineTooShort } ? QueueOutcome.DeadlineExceeded : QueueOutcome.Failed;
            Complete(outcome, t => t.Completion.TrySetException(exception));
        }

        /// <summary>Answered without starting, at shutdown or drain (already out of the waiting list).</summary>
        internal void Drain(InferenceException reason) => Complete(QueueOutcome.Drained, t => t.Completion.TrySetException(reason));

        private void ArmDeadline()
        {
            var due = Deadline - DateTime.UtcNow;
            _deadlineTimer = new Timer(static state => ((Ticket)state!).OnDeadlineTimer(), this,
                due <= TimeSpan.Zero ? TimeSpan.Zero : due < LongestTimer ? due : LongestTimer, Timeout.InfiniteTimeSpan);
        }

        private void OnDeadlineTimer()
        {
            if (Volatile.Read(ref _completed) == 1)
            {
                return;
            }
            if (Deadline > DateTime.UtcNow && Deadline - DateTime.UtcNow > TimeSpan.FromMilliseconds(1))
            {
                _deadlineTimer?.Dispose();
                ArmDeadline();                          // a deadline beyond LongestTimer: wait again
                return;
            }
            Volatile.Write(ref _deadlinePassed, 1);
            bool started;
            lock (owner._gate)
            {
                started = Node is null && StartedAt != 0;
            }
            if (!started)
            {
                Cancel();
            }
            else
            {
                owner._observer?.DeadlinePassedWhileRunning(this);
            }
        }

        /// <summary>Takes the ticket out of the waiting list if it is still there.</summary>
        private void Leave()
        {
            lock (owner._gate)
            {
                if (Node is not null)
                {
                    owner._waiting.Remove(Node);
                    owner._waitingItems -= Size;
                    Node = null;
                    owner._observer?.WaitingChangedLocked();
                }
            }
        }

        private void Complete(QueueOutcome outcome, Action<Ticket> complete)
        {
            if (Interlocked.Exchange(ref _completed, 1) == 1)
            {
                return;
            }
            owner.CountEnded(this, outcome);
            _registration.Unregister();
            _deadlineTimer?.Dispose();
            complete(this);
            owner._observer?.Completed(this);
        }
    }
}
