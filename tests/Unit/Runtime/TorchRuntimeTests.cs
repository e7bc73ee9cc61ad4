using MultiModal.Models.Runtime;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;
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
    public void Initialize_TurnsOffMmapdBlocksTogetherWithTheOneArena()
    {
        TorchRuntime.Initialize();

        // The test run sets none of MALLOC_ARENA_MAX / MALLOC_MMAP_MAX_, which would be kept. Whether a given thread's
        // large blocks then come from the heap depends on its arena (see HostMemoryReuse): not asserted here.
        Assert.Contains("one arena, no mmap'd blocks", TorchRuntime.HostMemory);
    }

    [Fact]
    public void Initialize_AsksLibtorchForHugePagesInTheNativeEnvironment()
    {
        TorchRuntime.Initialize();

        Assert.True(TorchRuntime.LibtorchHugePagesRequested, TorchRuntime.HostMemory);
    }

    [Fact]
    public void Initialize_ShortensOpenMpSpinningInTheNativeEnvironment()
    {
        TorchRuntime.Initialize();

        // libgomp reads GOMP_SPINCOUNT from the C environment when libtorch loads it (the test run sets neither it nor
        // OMP_WAIT_POLICY, which would be kept).
        Assert.True(TorchRuntime.OpenMpSpinCount == "1000", $"{TorchRuntime.OpenMpSpin}; GOMP_SPINCOUNT={TorchRuntime.OpenMpSpinCount}");
    }

    [Fact]
    public void ResolveDType_Auto_Bf16OnlyWhereTheModelFamilyAsksAndTheCpuComputesItNativelyAndFaster()
    {
        var cpu = CPU;
        var cuda = new Device(DeviceType.CUDA);

        Assert.Equal(ScalarType.Float32, TorchRuntime.ResolveDType("auto", cpu));
        var bf16Faster = CpuFeatures.HasNativeBf16 && Bf16SpeedProbe.Speedup >= Bf16SpeedProbe.RequiredSpeedup;
        Assert.Equal(bf16Faster ? ScalarType.BFloat16 : ScalarType.Float32, TorchRuntime.ResolveDType("auto", cpu, bf16OnNativeCpus: true));
        Assert.Equal(ScalarType.Float16, TorchRuntime.ResolveDType("auto", cuda, bf16OnNativeCpus: true));
        Assert.Equal(ScalarType.Float32, TorchRuntime.ResolveDType("float32", cpu, bf16OnNativeCpus: true));
    }

    [Fact]
    public void Bf16SpeedProbe_MeasuresARatioAndNeverCallsEmulatedBf16Faster()
    {
        var speedup = Bf16SpeedProbe.Speedup;

        Assert.True(double.IsFinite(speedup) && speedup > 0, $"float32 / bf16 time {speedup}");
        if (!CpuFeatures.HasNativeBf16)
            Assert.False(Bf16SpeedProbe.Bf16IsFaster);
        Assert.Equal(CpuFeatures.HasNativeBf16 && speedup >= Bf16SpeedProbe.RequiredSpeedup, Bf16SpeedProbe.Bf16IsFaster);
    }
}
