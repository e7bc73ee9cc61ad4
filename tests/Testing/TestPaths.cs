namespace MultiModal.Tests.Testing;

/// <summary>Locates the repository and its committed test fixtures from any test's working directory.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> RepoRootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MultiModal.Services.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("MultiModal.Services.sln not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>tests/Golden/Fixtures: data copied from ../shared/golden (made by the reference Python libraries).</summary>
    public static string Fixtures => Path.Combine(RepoRoot, "tests", "Golden", "Fixtures");

    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);
}
