using System.Diagnostics;

namespace MultiModal.Core.Inference;

internal sealed partial class RequestQueue<TRequest, TResult>
{
    /// <summary>One caller's request while it waits or runs; the owner completes it with Succeed or Fail.</summary>
    public sealed class Ticket(
        RequestQueue<TRequest, TResult> owner, TRequest request, int size, DateTime deadline, CancellationToken cancellationToken)
    {
        public TRequest Request { get; } = request;
        public int Size { get; } = size;
        public CancellationToken CancellationToken { get; } = cancellationToken;
        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();

        // Continuations run on the thread pool, never inline on the worker thread that completes the task.
        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Its node in the waiting list; null once taken, cancelled or orphaned (guarded by the owner's gate).</summary>
        public LinkedListNode<Ticket>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public bool IsExpired(DateTime utcNow) => deadline != DateTime.MaxValue && deadline <= utcNow;

        /// <summary>Token callback (and skip path): leaves the queue if still waiting, and completes at once.</summary>
        public void Cancel()
        {
            lock (owner._gate)
            {
                if (Node is not null)
                {
                    owner._waiting.Remove(Node);
                    owner._waitingItems -= Size;
                    Node = null;
                }
            }
            Completion.TrySetCanceled(CancellationToken);
            Registration.Unregister();
        }

        public void Succeed(TResult result)
        {
            Completion.TrySetResult(result);
            Registration.Unregister();
        }

        public void Fail(Exception exception)
        {
            Completion.TrySetException(exception);
            Registration.Unregister();
        }
    }
}
