namespace MultiModal.Core.Inference;

/// <summary>How an accepted request (or job) ended, the <c>outcome</c> tag of <c>multimodal.inference.requests</c>.</summary>
public enum QueueOutcome
{
    /// <summary>It ran and its caller got its result.</summary>
    Completed,

    /// <summary>It ran (or started) and its work threw.</summary>
    Failed,

    /// <summary>Its caller cancelled it, while it waited or ran.</summary>
    Cancelled,

    /// <summary>
    /// Its deadline passed: while it waited it left the queue at once and failed with DEADLINE_EXCEEDED /
    /// DEADLINE_TOO_SHORT (the same for every queue); while it ran, its work was stopped or its answer was late.
    /// </summary>
    DeadlineExceeded,

    /// <summary>It never started: the queue answered it with an error at shutdown or drain (<c>RejectWaiting</c>).</summary>
    Drained,
}

/// <summary>Tag values of <see cref="QueueOutcome"/>.</summary>
public static class QueueOutcomes
{
    public static string ToTag(QueueOutcome outcome) => outcome switch
    {
        QueueOutcome.Completed => "completed",
        QueueOutcome.Failed => "failed",
        QueueOutcome.Cancelled => "cancelled",
        QueueOutcome.DeadlineExceeded => "deadline_exceeded",
        QueueOutcome.Drained => "drained",
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, null),
    };
}
