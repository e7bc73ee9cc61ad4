using System.Runtime.CompilerServices;

namespace MultiModal.Tests.Testing;

/// <summary>
/// Records how much of a test's numeric bound a run used, so a bound calibrated on one CPU shows up as a small margin
/// on another. Off unless the environment variable <c>BOUND_LOG</c> names a file; each assertion then appends one
/// tab-separated line: caller file:member, what, measured, bound, share of the bound used (measured / bound).
/// </summary>
public static class BoundLog
{
    private static readonly string? Path = Environment.GetEnvironmentVariable("BOUND_LOG");
    private static readonly Lock Gate = new();

    /// <summary>Appends one line when <c>BOUND_LOG</c> is set; <paramref name="used"/> is measured / bound (1 = at the bound).</summary>
    public static void Record(string what, double measured, double bound, double used,
        [CallerFilePath] string file = "", [CallerMemberName] string member = "")
    {
        if (Path is null)
            return;
        var line = $"{System.IO.Path.GetFileNameWithoutExtension(file)}.{member}\t{what}\t{measured:G4}\t{bound:G4}\t{used:F4}\n";
        lock (Gate)
            File.AppendAllText(Path, line);
    }

    /// <summary>Records a scalar "measured ≤ bound" check (the share used is measured / bound).</summary>
    public static void AtMost(string what, double measured, double bound,
        [CallerFilePath] string file = "", [CallerMemberName] string member = "") =>
        Record(what, measured, bound, bound == 0 ? (measured == 0 ? 0 : double.PositiveInfinity) : measured / bound, file, member);
}
