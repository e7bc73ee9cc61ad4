namespace MultiModal.Core.Inference;

/// <summary>
/// Lets the owner of a <see cref="RequestQueue{TRequest, TResult}"/> keep per-request state in step with the waiting
/// list (a job queue's positions and events). The Locked methods run with the queue's gate held: they must not block.
/// </summary>
internal interface IQueueObserver<TRequest, TResult>
{
    /// <summary>A request joined or left the waiting list (enqueued, taken, cancelled, expired, drained). Gate held.</summary>
    void WaitingChangedLocked();

    /// <summary>The worker took the ticket: it runs now. Gate held, before <see cref="WaitingChangedLocked"/>.</summary>
    void TakenLocked(RequestQueue<TRequest, TResult>.Ticket ticket);

    /// <summary>The deadline of a ticket that already started passed (a waiting one fails by itself). Gate not held.</summary>
    void DeadlinePassedWhileRunning(RequestQueue<TRequest, TResult>.Ticket ticket);

    /// <summary>The ticket was answered (its task is complete), once. Gate not held.</summary>
    void Completed(RequestQueue<TRequest, TResult>.Ticket ticket);
}
