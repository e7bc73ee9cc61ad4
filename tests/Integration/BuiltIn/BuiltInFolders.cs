using MultiModal.Tests.Testing;

namespace MultiModal.Tests.Integration.BuiltIn;

/// <summary>
/// Where the BuiltIn tests find a trained model: builtin-models/&lt;name&gt;, or the folder an environment variable names
/// (relative to the repository root, e.g. a run under artifacts/) to test another training run the same way.
/// </summary>
internal static class BuiltInFolders
{
    public static string Resolve(string name, string overrideVariable) =>
        Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } folder
            ? Path.GetFullPath(folder, TestPaths.RepoRoot)
            : Path.Combine(TestPaths.RepoRoot, "builtin-models", name);
}
