using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace MultiModal.Tests.Testing;

/// <summary>
/// Records every measurement of the instruments of one meter instance, told apart from the process's other meters of
/// the same name by a meter tag value unique to the test (e.g. a queue or model name with a GUID). Dispose to stop.
/// </summary>
public sealed class MeterRecorder : IDisposable
{
    /// <summary>One measurement: instrument name, value, and its measurement tags.</summary>
    public sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
    {
        /// <summary>The tag's value as a string, or null when absent.</summary>
        public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value?.ToString() : null;
    }

    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private readonly MeterListener _listener = new();

    public MeterRecorder(string meterName, string meterTagValue)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName && instrument.Meter.Tags?.Any(t => Equals(t.Value, meterTagValue)) == true)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>(Record);
        _listener.SetMeasurementEventCallback<double>(Record);
        _listener.Start();
    }

    /// <summary>What was recorded so far, in order.</summary>
    public IReadOnlyList<Measurement> Measurements => [.. _measurements];

    /// <summary>The values recorded by <paramref name="instrument"/>, optionally only those whose tag <paramref name="key"/> is <paramref name="value"/>.</summary>
    public IEnumerable<double> Values(string instrument, string? key = null, string? value = null) =>
        Measurements.Where(m => m.Instrument == instrument && (key is null || m.Tag(key) == value)).Select(m => m.Value);

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        var copied = new Dictionary<string, object?>();
        foreach (var tag in tags)
            copied[tag.Key] = tag.Value;
        _measurements.Enqueue(new Measurement(instrument.Name, Convert.ToDouble(value), copied));
    }

    public void Dispose() => _listener.Dispose();
}
