using MultiModal.Models.Runtime;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using Xunit;

namespace MultiModal.Tests.Unit.Runtime;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void ResolveDevice_FirstCall_TurnsNnpackOffSoLibtorchNeverTriesIt()
    {
        TorchRuntime.ResolveDevice("cpu");

        Assert.False(TorchRuntime.NnpackEnabled);
    }

    [Fact]
    public void Initialize_OnAnyX86Cpu_OneMklPicksKernelsByCpuFeaturesNotByVendor()
    {
        TorchRuntime.Initialize();

        Assert.True(!X86Base.IsSupported || TorchRuntime.MklUsesFeatureDispatch, TorchRuntime.MklDispatch);
    }

    [Fact]
    public void FloatMatmul_AfterInitialize_MatchesADoublePrecisionProduct()
    {
        TorchRuntime.Initialize();
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(7);
        var a = torch.randn(257, 768, generator: generator);
        var b = torch.randn(768, 3072, generator: generator);

        var product = torch.matmul(a, b);
        var reference = torch.matmul(a.to(torch.float64), b.to(torch.float64));

        // float32 dot products of length 768 with unit-normal terms: error ~ sqrt(768) * 2^-24 * |terms| << 1e-3.
        var worst = (product.to(torch.float64) - reference).abs().max().item<double>();
        Assert.True(worst < 1e-3, $"max |float32 - float64| = {worst}");
    }

    [Fact]
    public void Initialize_AsksLibtorchForHugePagesInTheNativeEnvironment()
    {
        TorchRuntime.Initialize();

        Assert.True(TorchRuntime.LibtorchHugePagesRequested, TorchRuntime.HostMemory);
    }

    [Fact]
    public void ForwardShapedAllocationChurn_AfterInitialize_ReusesFreedMemoryInsteadOfFaultingItInAgain()
    {
        TorchRuntime.Initialize();
        const long small = 5 << 20, large = 20 << 20;   // one ViT-B/32 batch-32 activation and an MLP one
        long touchedPages = 0;

        // The allocation pattern of 12 pre-LN encoder layers inside one dispose scope: per layer an MLP-sized pair
        // freed at once, a residual that replaces the previous one, and a LayerNorm output kept until the pass ends.
        void Pass()
        {
            var keptUntilEnd = new List<torch.Tensor>();
            var residual = Touched(small);
            for (var layer = 0; layer < 12; layer++)
            {
                keptUntilEnd.Add(Touched(small));
                using (Touched(large))
                using (Touched(large))
                {
                }
                var next = Touched(small);
                residual.Dispose();
                residual = next;
            }
            residual.Dispose();
            keptUntilEnd.ForEach(t => t.Dispose());
        }

        // Pages are written from this thread, so the thread's own fault counter sees exactly these allocations.
        torch.Tensor Touched(long bytes)
        {
            var tensor = torch.empty(bytes, dtype: torch.ScalarType.Byte);
            var start = TensorMemory.DataPointer(tensor);
            for (long offset = 0; offset < bytes; offset += 4096)
                Marshal.WriteByte(start + (nint)offset, 1);
            touchedPages += bytes / 4096;
            return tensor;
        }

        Pass();
        Pass();
        touchedPages = 0;
        var before = ThreadMinorFaults();
        for (var i = 0; i < 3; i++)
            Pass();
        var faults = ThreadMinorFaults() - before;

        // glibc's defaults trim and unmap these blocks, so pages fault in again every pass (measured with
        // MULTIMODAL_HOST_MEMORY=os-default: 41 000 faults for 465 000 pages); kept in the heap, 16.
        Assert.True(faults < touchedPages / 100, $"{faults} minor faults for {touchedPages} pages written ({TorchRuntime.HostMemory})");
    }

    private static long ThreadMinorFaults()
    {
        var usage = new long[18];   // struct rusage: two timevals, then ru_maxrss … ru_nivcsw
        Assert.Equal(0, getrusage(1 /* RUSAGE_THREAD */, usage));
        return usage[4 + 4];        // ru_minflt: after the timevals (4 longs) and ru_maxrss, ru_ixrss, ru_idrss, ru_isrss
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, [Out] long[] usage);
}
