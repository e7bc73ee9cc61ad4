namespace MultiModal.Tests.Testing;

/// <summary>Bounds every await in a test, so a hang fails the test instead of the whole run (grpc-dotnet's habit).</summary>
public static class TaskExtensions
{
    /// <summary>How long <see cref="DefaultTimeout(Task)"/> waits.</summary>
    public static readonly TimeSpan DefaultTimeoutSpan = TimeSpan.FromSeconds(30);

    /// <summary>Awaits <paramref name="task"/> for at most 30 s.</summary>
    /// <exception cref="TimeoutException">The task did not complete in time.</exception>
    public static Task DefaultTimeout(this Task task) => task.WaitAsync(DefaultTimeoutSpan);

    /// <summary>Awaits <paramref name="task"/> for at most 30 s.</summary>
    /// <exception cref="TimeoutException">The task did not complete in time.</exception>
    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(DefaultTimeoutSpan);
}
