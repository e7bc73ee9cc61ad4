using Microsoft.Extensions.Logging;

namespace MultiModal.Tests.Unit.Core;

/// <summary>Keeps every log entry, for asserting on level, event and exception.</summary>
internal sealed class CollectingLogger : ILogger
{
    public sealed record Entry(LogLevel Level, EventId EventId, string Message, Exception? Exception);

    private readonly List<Entry> _entries = [];

    public IReadOnlyList<Entry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(
        LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add(new Entry(logLevel, eventId, formatter(state, exception), exception));
        }
    }
}
