namespace MultiModal.Tests.Fuzz;

/// <summary>
/// The committed files the targets load (real tokenizer files from tests/Golden/Fixtures) and the corpus folders,
/// found from the repository root above the running assembly (the build output, or the instrumented copy in .fuzz/).
/// </summary>
public static class FuzzAssets
{
    private static readonly Lazy<string> RepoRootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MultiModal.Services.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException("MultiModal.Services.sln not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>openai/CLIP's BPE files with the tiny CLIP's preprocessor_config.json (bicubic resize, 32 px center crop).</summary>
    public static string ClipFolder => Path.Combine(RepoRoot, "tests", "Golden", "Fixtures", "tiny-clip", "model");

    /// <summary>The tiny LLaVA's tokenizer.model (byte fallback) and tokenizer JSON files (&lt;image&gt; added token).</summary>
    public static string LlavaFolder => Path.Combine(RepoRoot, "tests", "Golden", "Fixtures", "llava", "tiny-llava-a");

    /// <summary>tests/Fuzz/corpus/&lt;target&gt;: seeds plus the interesting inputs kept from fuzzing.</summary>
    public static string Corpus(string target) => Path.Combine(RepoRoot, "tests", "Fuzz", "corpus", target);

    /// <summary>tests/Fuzz/crashes/&lt;target&gt;: every crash or hang ever found (fixed since).</summary>
    public static string Crashes(string target) => Path.Combine(RepoRoot, "tests", "Fuzz", "crashes", target);
}
