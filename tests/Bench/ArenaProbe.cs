using MultiModal.Models.Runtime;
using static TorchSharp.torch;

namespace MultiModal.Tests.Bench;

/// <summary>
/// Which threads' large tensors (96 MiB, above glibc's largest mmap threshold) come from the malloc heap and which from
/// a mapping of their own (unmapped and zeroed again per call): the main thread, new threads and a thread-pool thread.
/// Run it with and without <c>GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0</c> (HostMemoryReuse).
/// </summary>
public static class ArenaProbe
{
    public static void Run()
    {
        Console.WriteLine(TorchRuntime.HostMemory);
        Report("main thread");
        var thread = new Thread(() => Report("new thread after Initialize"));
        thread.Start(); thread.Join();
        Task.Run(() => Report("thread-pool thread")).Wait();
        var threads = Enumerable.Range(0, 6).Select(i => new Thread(() => Report($"new thread {i}"))).ToList();
        foreach (var t in threads) { t.Start(); t.Join(); }
    }

    private static void Report(string who)
    {
        using var large = empty(24L << 20);
        var address = (ulong)(long)TensorMemory.DataPointer(large);
        var heap = File.ReadLines("/proc/self/maps").Where(l => l.EndsWith("[heap]", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[0].Split('-').Select(p => Convert.ToUInt64(p, 16)).ToArray()).ToList();
        var inHeap = heap.Any(r => address >= r[0] && address < r[1]);
        Console.WriteLine($"{who}: 0x{address:x} {(inHeap ? "in the heap" : "own mapping")}");
    }
}
