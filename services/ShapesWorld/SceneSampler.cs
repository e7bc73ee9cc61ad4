namespace MultiModal.ShapesWorld;

/// <summary>
/// Draws scenes deterministically: scene <c>i</c> of the set with seed <c>s</c> depends only on (s, i), so a training
/// set, a held-out set (another seed) and any single image can be regenerated anywhere. System.Random with a seed is
/// the same sequence on every platform and .NET version (its seeded algorithm is frozen for compatibility).
/// </summary>
public static class SceneSampler
{
    /// <summary>The held-out set's seed: never trained on; the model cards' and `eval`'s default evaluation images.</summary>
    public const int HeldOutSeed = 1_000_003;

    /// <summary>Radius range (fraction of the image side) of each size; the gap between them keeps the sizes apart.</summary>
    public static (double Min, double Max) RadiusRange(WorldSize size) => size == WorldSize.Small ? (0.15, 0.22) : (0.29, 0.40);

    private const int MaxJitter = 12;   // per channel, of 255
    private const double Margin = 0.03;

    /// <summary>Scene <paramref name="index"/> of the set drawn with <paramref name="seed"/>.</summary>
    public static WorldScene Scene(int seed, long index)
    {
        var random = new Random(unchecked((int)Mix((uint)seed, (ulong)index)));
        var shape = Pick(random, WorldVocabulary.Shapes);
        var color = Pick(random, WorldVocabulary.ShapeColors);
        var size = Pick(random, WorldVocabulary.Sizes);
        var background = Pick(random, WorldVocabulary.BackgroundColors.Where(c => c != color).ToArray());
        var (min, max) = RadiusRange(size);
        var radius = min + (max - min) * random.NextDouble();
        double Center() => radius + Margin + (1 - 2 * (radius + Margin)) * random.NextDouble();
        var (x, y) = (Center(), Center());
        var rotation = 360 * random.NextDouble();
        (int, int, int) Jitter() => (random.Next(-MaxJitter, MaxJitter + 1), random.Next(-MaxJitter, MaxJitter + 1), random.Next(-MaxJitter, MaxJitter + 1));
        return new WorldScene(shape, color, size, background, x, y, radius, rotation, Jitter(), Jitter(), random.Next());
    }

    /// <summary>Scenes <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> − 1 of a set.</summary>
    public static IEnumerable<WorldScene> Scenes(int seed, long start, int count)
    {
        for (var i = 0; i < count; i++)
            yield return Scene(seed, start + i);
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    // SplitMix64 finaliser over (seed, index): neighbouring indices give unrelated Random seeds.
    private static ulong Mix(uint seed, ulong index)
    {
        var z = index + 0x9E3779B97F4A7C15UL * (seed + 1UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
