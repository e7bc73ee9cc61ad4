namespace MultiModal.Models.Llava.Generation;

/// <summary>
/// Holds streamed text back while its end could still become a stop string, and reports when one appears. Text up to
/// (not including) the first stop string is released; nothing after it ever is.
/// </summary>
internal sealed class StopStringMatcher(IReadOnlyList<string> stopStrings)
{
    private string _pending = "";

    /// <summary>Whether a stop string has been seen (then the text is final).</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds decoded text; returns what can be released now.</summary>
    public string Push(string text)
    {
        if (Stopped || text.Length == 0) return "";
        _pending += text;
        var first = stopStrings.Select(s => _pending.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (first >= 0)
        {
            Stopped = true;
            var released = _pending[..first];
            _pending = "";
            return released;
        }
        var hold = stopStrings.Count == 0 ? 0 : stopStrings.Max(s => OverlapOfSuffixWithPrefix(_pending, s));
        var ready = _pending[..^hold];
        _pending = _pending[^hold..];
        return ready;
    }

    /// <summary>Releases the held text at the end of generation (no stop string completed).</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }

    // The longest proper prefix of `stop` that `text` ends with.
    private static int OverlapOfSuffixWithPrefix(string text, string stop)
    {
        for (var length = Math.Min(text.Length, stop.Length - 1); length > 0; length--)
            if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                return length;
        return 0;
    }
}
