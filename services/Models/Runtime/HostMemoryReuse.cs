using System.Runtime.InteropServices;

namespace MultiModal.Models.Runtime;

/// <summary>
/// Keeps freed tensor memory in the process for the next forward pass instead of handing it back to the kernel and
/// page-faulting it in again, and backs libtorch's large CPU buffers with transparent huge pages.
/// </summary>
/// <remarks>
/// libtorch's CPU allocator is plain <c>posix_memalign</c>/<c>free</c> (no caching allocator on the CPU). glibc returns
/// big freed blocks to the kernel (<c>munmap</c> above the mmap threshold, heap trimming above the trim threshold), so
/// every forward pass faulted its activations in again, 4 KiB at a time, each page zeroed by the kernel: a CLIP
/// ViT-B/32 batch-32 image forward took 40 000–170 000 minor faults (160–650 MB) and 1.1–2.8 s instead of 0.85–0.95 s on
/// an AMD Zen 5 (tests/Bench/README.md, "Quiet runs after the host-memory and channels-last fixes"). Applied before the
/// first tensor exists:
/// <list type="bullet">
/// <item>glibc <c>mallopt</c>: mmap threshold at its maximum (32 MiB; blocks below it come from the heap and are
/// reused) and trim threshold at 2 GiB (the heap keeps its high-water mark). The process holds its peak working set,
/// as a GPU caching allocator does; a server's peak is its largest batch. And one malloc arena for every thread: a
/// model thread otherwise gets a secondary arena, whose 64 MiB heaps are unmapped as soon as they are wholly free
/// (CLIP b32 on a model thread: 13 700 faults per pass with the thresholds alone, 1 100 with one arena, 31 700 with
/// glibc's defaults). .NET allocates managed objects outside malloc, so the one arena is not contended.</item>
/// <item>With the one arena, no block of its own mapping (<c>M_MMAP_MAX</c> 0): blocks above 32 MiB (the UNet's and
/// VAE's activations, up to hundreds of MB at 512²) otherwise came from <c>mmap</c> and went back with <c>munmap</c> on
/// every free, so each UNet call and VAE decode had the kernel zero them again (<c>clear_page_erms</c> was 15 % of a
/// profile of UNet steps and decodes on an Intel Xeon); from the heap they are reused (UNet step and VAE decode 13–14 %
/// faster there). glibc still maps memory itself where the heap cannot grow by <c>brk</c>, and for threads that got a
/// secondary arena before this ran (glibc gives each new thread its own arena until the limit, and .NET's and
/// ASP.NET's threads allocate before a service builds its model): those keep mmap'ing large blocks. A bench or tool
/// whose main thread runs the model allocates from the main arena's heap (where the numbers above come from); other
/// threads mostly did not (`MultiModal.Tests.Bench --arena-probe`: 1 of 8 new or pool threads in the heap). So the
/// services are started with <c>GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0</c>, which glibc
/// reads before any thread exists (Containerfiles, build/run-fleet.sh, the Makefile's run-* targets; with it every
/// thread of the probe allocated from the heap).</item>
/// <item>libtorch's <c>THP_MEM_ALLOC_ENABLE=1</c>: buffers of 2 MiB and more are 2 MiB-aligned and
/// <c>madvise(MADV_HUGEPAGE)</c>d, so the heap's large blocks fault in 2 MiB pages the first time. Takes effect where
/// the kernel's THP mode is <c>madvise</c> or <c>always</c>.</item>
/// </list>
/// Each is left alone when the operator set it already (<c>MALLOC_MMAP_THRESHOLD_</c>, <c>MALLOC_TRIM_THRESHOLD_</c>, <c>MALLOC_ARENA_MAX</c>, <c>MALLOC_MMAP_MAX_</c>,
/// <c>THP_MEM_ALLOC_ENABLE</c> in the environment); everything off with <c>MULTIMODAL_HOST_MEMORY=os-default</c>.
/// </remarks>
internal static class HostMemoryReuse
{
    public const string EnvironmentVariable = "MULTIMODAL_HOST_MEMORY";
    public const string TorchHugePagesVariable = "THP_MEM_ALLOC_ENABLE";
    public const int MmapThresholdBytes = 32 << 20;        // glibc's upper limit for M_MMAP_THRESHOLD on 64-bit
    public const int TrimThresholdBytes = int.MaxValue;    // mallopt takes an int

    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_THRESHOLD = -3;
    private const int M_MMAP_MAX = -4;
    private const int M_ARENA_MAX = -8;

    public static string State { get; private set; } = "not applied";

    /// <summary>Call before libtorch allocates its first tensor (libtorch reads its variable once, at that point).</summary>
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux())
        {
            State = "not applied (not Linux)";
            return;
        }
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { } value &&
            value.Equals("os-default", StringComparison.OrdinalIgnoreCase))
        {
            State = $"not applied ({EnvironmentVariable}=os-default)";
            return;
        }
        var done = new List<string>();
        try
        {
            if (NativeEnvironment.Get("MALLOC_MMAP_THRESHOLD_") is null && mallopt(M_MMAP_THRESHOLD, MmapThresholdBytes) == 1)
                done.Add("mmap threshold 32 MiB");
            if (NativeEnvironment.Get("MALLOC_TRIM_THRESHOLD_") is null && mallopt(M_TRIM_THRESHOLD, TrimThresholdBytes) == 1)
                done.Add("trim threshold 2 GiB");
            var oneArena = NativeEnvironment.Get("MALLOC_ARENA_MAX") is null && mallopt(M_ARENA_MAX, 1) == 1;
            if (oneArena)
                done.Add("one arena");
            // Only with the one arena: its heap grows by brk and falls back to mmap by itself where brk cannot grow.
            if (oneArena && NativeEnvironment.Get("MALLOC_MMAP_MAX_") is null && mallopt(M_MMAP_MAX, 0) == 1)
                done.Add("no mmap'd blocks");
        }
        catch (EntryPointNotFoundException)
        {
            done.Add("no glibc mallopt");
        }
        if (NativeEnvironment.Get(TorchHugePagesVariable) is null && NativeEnvironment.SetIfUnset(TorchHugePagesVariable, "1"))
            done.Add($"{TorchHugePagesVariable}=1");
        State = done.Count == 0 ? "operator's settings kept" : "applied: " + string.Join(", ", done);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mallopt(int param, int value);
}
