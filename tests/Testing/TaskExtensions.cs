namespace MultiModal.Tests.Testing;

/// <summary>Bounds every await in a test, so a hang fails the test instead of the whole run (grpc-dotnet's habit).</summary>
public static class TaskExtensions
{
    /// <summary>How long <see cref="DefaultTimeout(Task)"/> waits.</summary>
    public static readonly TimeSpan DefaultTimeoutSpan = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The shortest deadline a test should set before enqueueing a request that must be accepted and then expire
    /// while it waits: the queue refuses a deadline already past on enqueue, and on a loaded 2-core machine the test
    /// thread can be descheduled for ~100 ms between computing the deadline and the enqueue (30 ms was too short).
    /// Tests then wait for the clock (or the queue's event) to pass it, so it costs each such test this long.
    /// </summary>
    public static readonly TimeSpan ShortDeadlineSpan = TimeSpan.FromMilliseconds(500);

    /// <summary>Awaits <paramref name="task"/> for at most 30 s.</summary>
    /// <exception cref="TimeoutException">The task did not complete in time.</exception>
    public static Task DefaultTimeout(this Task task) => task.WaitAsync(DefaultTimeoutSpan);

    /// <summary>Awaits <paramref name="task"/> for at most 30 s.</summary>
    /// <exception cref="TimeoutException">The task did not complete in time.</exception>
    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(DefaultTimeoutSpan);
}
