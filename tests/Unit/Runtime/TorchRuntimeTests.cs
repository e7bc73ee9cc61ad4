using MultiModal.Models.Runtime;
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
}
