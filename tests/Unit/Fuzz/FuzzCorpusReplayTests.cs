using System.Diagnostics;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Fuzz;
using MultiModal.Tests.Fuzz.Targets;
using Xunit;

namespace MultiModal.Tests.Unit.Fuzz;

/// <summary>
/// Replays every committed fuzz input (tests/Fuzz/corpus/&lt;target&gt; and every crash or hang ever found,
/// tests/Fuzz/crashes/&lt;target&gt;) through the same target code AFL++ ran, uninstrumented: no exception but the
/// target's documented rejections, and bounded time and allocation per input.
/// </summary>
public class FuzzCorpusReplayTests
{
    // Not a speed bound: a hang detector far above any input's cost on any CPU (the slowest take well under a second).
    private static readonly TimeSpan MaxTime = TimeSpan.FromSeconds(30);

    // The largest input the services accept (40 megapixels) needs about 0.5 GB of pixel buffers; 2 GiB also leaves
    // room for tests running beside this one, which GC.GetTotalAllocatedBytes counts too.
    private const long MaxAllocatedBytes = 2L << 30;

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in FuzzTargets.Names)
            foreach (var dir in new[] { FuzzAssets.Corpus(target), FuzzAssets.Crashes(target) })
                if (Directory.Exists(dir))
                    foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                        data.Add(target, Path.GetRelativePath(FuzzAssets.RepoRoot, file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Replay_CommittedFuzzInput_NoUnexpectedExceptionWithinBounds(string target, string file)
    {
        var input = File.ReadAllBytes(Path.Combine(FuzzAssets.RepoRoot, file));
        var fuzzTarget = FuzzTargets.Get(target);

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        fuzzTarget.Run(input);
        watch.Stop();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.True(watch.Elapsed < MaxTime, $"{file} took {watch.Elapsed}");
        Assert.True(allocated < MaxAllocatedBytes, $"{file} allocated {allocated} bytes");
    }

    [Fact]
    public void Replay_EveryTarget_HasSeedCorpus()
    {
        foreach (var target in FuzzTargets.Names)
            Assert.True(Directory.Exists(FuzzAssets.Corpus(target)) && Directory.GetFiles(FuzzAssets.Corpus(target), "seed-*").Length > 0,
                $"no seeds in tests/Fuzz/corpus/{target}");
    }

    [Fact]
    public void Seeds_ImageSeeds_DecodeAsTheirFormat()
    {
        // The image seeds must reach each decoder's pixel path, not stop at a rejection (one per format we accept).
        foreach (var (name, bytes) in Seeds.All()[ImageDecodeTarget.TargetName])
        {
            var image = ImageDecoder.Decode(bytes, ImageLimits.Default);
            Assert.True(image.Width > 0 && image.Height > 0, name);
        }
    }
}
