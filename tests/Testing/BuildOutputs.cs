namespace MultiModal.Tests.Testing;

/// <summary>Finds other projects' build outputs, built with the same configuration as the running test.</summary>
public static class BuildOutputs
{
    private const string TargetFramework = "net10.0";

    /// <summary>Debug or Release: the folder above this test's <c>bin/&lt;Configuration&gt;/net10.0/</c>.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent?.Name
        ?? throw new InvalidOperationException("Cannot tell the build configuration from " + AppContext.BaseDirectory);

    /// <summary>
    /// <c>&lt;repo&gt;/&lt;projectDirectory&gt;/bin/&lt;Configuration&gt;/net10.0/MultiModal.&lt;projectName&gt;.dll</c>,
    /// e.g. <c>Dll("gateway", "Gateway")</c>.
    /// </summary>
    /// <exception cref="FileNotFoundException">The project has not been built with this configuration.</exception>
    public static string Dll(string projectDirectory, string projectName)
    {
        var path = Path.Combine(TestPaths.RepoRoot, projectDirectory, "bin", Configuration, TargetFramework,
            $"MultiModal.{projectName}.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException(
                $"{path} is missing: build {projectDirectory} ({Configuration}) first, e.g. through a " +
                "ProjectReference with ReferenceOutputAssembly=\"false\" from the test project.", path);
    }
}
