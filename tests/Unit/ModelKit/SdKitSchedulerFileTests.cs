using MultiModal.ModelKit;
using MultiModal.Models.Schedulers;
using Xunit;

namespace MultiModal.Tests.Unit.ModelKit;

/// <summary>The scheduler files a written pipeline can carry, read back as the service reads them.</summary>
public sealed class SdKitSchedulerFileTests
{
    // A folder whose own file is DPM++ 2M samples with the settings a request naming DPM++ 2M gets on an SD 1.5 folder:
    // the default scheduler of such a folder and `--scheduler dpmpp2m` on the PNDM one are the same sampler.
    [Fact]
    public void DpmPP2MFile_ResolvesLikeDpmPP2MChosenOnSd15sFile()
    {
        var written = SchedulerConfig.Parse(SdKit.SchedulerFile(SchedulerKind.DpmPP2M));
        var chosen = SchedulerFactory.Resolve(SchedulerKind.DpmPP2M, SdKit.Sd15Schedule);

        Assert.Equal(chosen with { SourceJson = "", SourceClassName = null }, written with { SourceJson = "", SourceClassName = null });
        Assert.Equal(SchedulerClasses.DpmSolverMultistep, written.ClassName);
    }

    [Fact]
    public void PndmFile_IsSd15s()
    {
        var written = SchedulerConfig.Parse(SdKit.SchedulerFile(SchedulerKind.Pndm));

        Assert.Equal(SdKit.Sd15Schedule, written);
        Assert.Equal(SchedulerClasses.Pndm, written.ClassName);
    }

    [Fact]
    public void OtherSampler_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SdKit.SchedulerFile(SchedulerKind.Lms));
}
