using System.Globalization;

namespace MultiModal.Training.Cli;

/// <summary><c>--name value</c> and <c>--flag</c> options after the command words; unknown options are an error.</summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public CliArgs(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (!list[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"unexpected argument '{list[i]}'");
            var hasValue = i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal);
            _options[list[i][2..]] = hasValue ? list[++i] : null;
        }
    }

    public string? String(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? v ?? throw new ArgumentException($"--{name} needs a value") : null;
    }

    public string Required(string name) => String(name) ?? throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) => String(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => OptionalDouble(name) ?? fallback;

    public double? OptionalDouble(string name) => String(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : null;

    public bool Flag(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var v) && v is null;
    }

    /// <summary>Throws for any option no one asked for (a typo must not silently train with defaults).</summary>
    public void RejectUnknown()
    {
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}");
    }
}
