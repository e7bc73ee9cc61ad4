namespace MultiModal.Tests.Fuzz;

/// <summary>
/// One fuzz target: feeds arbitrary bytes to product code the way a service would receive them. It returns normally
/// when the code accepted or rejected the input through its documented rejection types; any other exception (and a
/// broken invariant, <see cref="FuzzInvariantException"/>) escapes and is a crash.
/// </summary>
public interface IFuzzTarget
{
    /// <summary>The name used by <c>make fuzz TARGET=</c> and the corpus/crashes folders.</summary>
    string Name { get; }

    /// <summary>What the input bytes are and which exceptions count as a clean rejection.</summary>
    string Description { get; }

    void Run(ReadOnlySpan<byte> input);
}

/// <summary>An input the product code accepted but answered wrongly (e.g. a round trip that does not round-trip).</summary>
public sealed class FuzzInvariantException(string message) : Exception(message)
{
    public static void That(bool condition, string message)
    {
        if (!condition)
            throw new FuzzInvariantException(message);
    }
}
