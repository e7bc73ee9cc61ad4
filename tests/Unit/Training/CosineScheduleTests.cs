using MultiModal.Training.Loop;
using Xunit;

namespace MultiModal.Tests.Unit.Training;

public sealed class CosineScheduleTests
{
    private static readonly CosineSchedule Schedule = new(PeakLearningRate: 1e-3, WarmupSteps: 10, TotalSteps: 110, MinLearningRate: 1e-4);

    [Fact]
    public void At_Warmup_RisesLinearlyToThePeak()
    {
        Assert.Equal(1e-4, Schedule.At(0), 12);
        Assert.Equal(5e-4, Schedule.At(4), 12);
        Assert.Equal(1e-3, Schedule.At(9), 12);
    }

    [Fact]
    public void At_AfterWarmup_HalfCosineToTheFloor()
    {
        Assert.Equal(1e-3, Schedule.At(10), 12);
        Assert.Equal(5.5e-4, Schedule.At(60), 12);   // halfway: (peak + floor) / 2
        Assert.Equal(1e-4, Schedule.At(110), 12);
        Assert.Equal(1e-4, Schedule.At(500), 12);
    }
}
