using MultiModal.Models.Errors;
using MultiModal.Models.Imaging;
using MultiModal.Models.Pipelines;
using MultiModal.Models.Schedulers;
using Xunit;

namespace MultiModal.Tests.Unit.Pipelines;

/// <summary>Size rules and request validation of the SD pipeline (SD 1.5-shaped rules: 512 native, VAE factor 8, 12 text layers).</summary>
public sealed class GenerationRulesTests
{
    private static readonly GenerationRules Sd15 = new(512, 512, 8, 12, 4);

    private const string Sd15Scheduler = """
        {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012, "beta_schedule": "scaled_linear",
         "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000, "set_alpha_to_one": false,
         "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null}
        """;

    private static GenerationRequest Txt2Img(int width = 0, int height = 0) =>
        new("a cat", "", width, height, 20, 7.5, [1], SchedulerKind.Default, null, 0, PreviewRequest.None);

    private static GenerationRequest Img2Img(int imageWidth, int imageHeight, int width = 0, int height = 0, double strength = 0.75) =>
        Txt2Img(width, height) with { InitImage = new DecodedImage(imageWidth, imageHeight, new byte[imageWidth * imageHeight * 3]), Strength = strength };

    private static string RejectedField(Action action) => Assert.Throws<InputRejectedException>(action).Field;

    [Fact]
    public void ResolveSize_Txt2ImgDefaults_IsNativeSize() =>
        Assert.Equal((512, 512), Sd15.ResolveSize(Txt2Img()));

    [Fact]
    public void ResolveSize_Txt2ImgExplicitSides_AreKeptIndependently() =>
        Assert.Equal((640, 512), Sd15.ResolveSize(Txt2Img(width: 640)));

    [Fact]
    public void ResolveSize_Img2ImgDefaults_RoundsInitImageDownToMultipleOf8() =>
        Assert.Equal((696, 520), Sd15.ResolveSize(Img2Img(701, 527)));

    [Fact]
    public void ResolveSize_Img2ImgExplicitWidth_OverridesOnlyThatSide() =>
        Assert.Equal((256, 520), Sd15.ResolveSize(Img2Img(701, 527, width: 256)));

    [Theory]
    [InlineData(500, 0, "width")]
    [InlineData(0, -8, "height")]
    [InlineData(8192, 0, "width")]
    [InlineData(0, 4, "height")]
    public void ResolveSize_BadSide_IsRejectedNamingTheField(int width, int height, string field) =>
        Assert.Equal(field, RejectedField(() => Sd15.ResolveSize(Txt2Img(width, height))));

    [Fact]
    public void ResolveSize_InitImageUnder8Pixels_IsRejectedAsInitImage() =>
        Assert.Equal("init_image", RejectedField(() => Sd15.ResolveSize(Img2Img(7, 64))));

    [Fact]
    public void ResolveSize_VaeFactor16_UsesMultiplesOf16()
    {
        var rules = Sd15 with { VaeScaleFactor = 16 };

        Assert.Equal("width", RejectedField(() => rules.ResolveSize(Txt2Img(width: 520))));
        Assert.Equal((688, 512), rules.ResolveSize(Img2Img(700, 520)));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void Validate_Img2ImgStrengthOutOfRange_IsRejectedAsStrength(double strength) =>
        Assert.Equal("strength", RejectedField(() => Sd15.Validate(Img2Img(64, 64, strength: strength))));

    [Fact]
    public void Validate_Txt2ImgStrength_IsIgnored() => Sd15.Validate(Txt2Img() with { Strength = 7 });

    [Theory]
    [InlineData("steps")]
    [InlineData("seeds")]
    [InlineData("guidance_scale")]
    [InlineData("clip_skip")]
    [InlineData("preview.every_n_steps")]
    [InlineData("preview.max_size")]
    [InlineData("scheduler")]
    public void Validate_BadField_IsRejectedNamingIt(string field)
    {
        var request = field switch
        {
            "steps" => Txt2Img() with { Steps = 0 },
            "seeds" => Txt2Img() with { Seeds = [] },
            "guidance_scale" => Txt2Img() with { GuidanceScale = double.PositiveInfinity },
            "clip_skip" => Txt2Img() with { ClipSkip = 12 },
            "preview.every_n_steps" => Txt2Img() with { Preview = new PreviewRequest(-1, PreviewKind.Approximate, 0) },
            "preview.max_size" => Txt2Img() with { Preview = new PreviewRequest(1, PreviewKind.Approximate, -5) },
            _ => Txt2Img() with { Scheduler = (SchedulerKind)99 },
        };

        var error = Assert.Throws<InputRejectedException>(() => Sd15.Validate(request));

        Assert.Equal(field, error.Field);
        Assert.Equal(InputRejection.Invalid, error.Kind);
    }

    [Fact]
    public void Validate_ApproximatePreviewWithoutFourLatentChannels_IsRejected() =>
        Assert.Equal("preview.kind", RejectedField(() => (Sd15 with { LatentChannels = 16 })
            .Validate(Txt2Img() with { Preview = new PreviewRequest(1, PreviewKind.Approximate, 0) })));

    [Fact]
    public void Schedule_Pndm4Steps_RunsFiveUNetEvaluations()
    {
        var schedule = GenerationRules.Schedule(Txt2Img() with { Steps = 4 }, SchedulerConfig.Parse(Sd15Scheduler));

        Assert.Equal(SchedulerClasses.Pndm, schedule.Scheduler.Config.ClassName);
        Assert.Equal([751.0, 501, 501, 251, 1], schedule.Timesteps);
        Assert.Equal(4, schedule.Steps);
        Assert.Equal(1, schedule.WarmupEvaluations);
    }

    [Fact]
    public void Schedule_Img2ImgEightStepsStrength075_RunsDiffusersTail()
    {
        var schedule = GenerationRules.Schedule(Img2Img(64, 64) with { Steps = 8 }, SchedulerConfig.Parse(Sd15Scheduler));

        Assert.Equal([751.0, 626, 501, 376, 251, 126, 1], schedule.Timesteps);
        Assert.Equal(6, schedule.Steps);                          // int(8 · 0.75), diffusers' progress total
        Assert.Equal(1, schedule.WarmupEvaluations);
    }

    [Fact]
    public void Schedule_StrengthLeavingNoStep_IsRejectedAsStrength() =>
        Assert.Equal("strength", RejectedField(() => GenerationRules.Schedule(
            Img2Img(64, 64, strength: 0.05) with { Steps = 10, Scheduler = SchedulerKind.Ddim }, SchedulerConfig.Parse(Sd15Scheduler))));

    [Fact]
    public void Schedule_PndmStrengthUnderOneStep_IsRejectedThoughPlmsTailIsNotEmpty() =>
        // int(10 · 0.05) = 0 kept steps; the slice timesteps[10:] of PLMS's 11 entries would still hold one
        Assert.Equal("strength", RejectedField(() => GenerationRules.Schedule(
            Img2Img(64, 64, strength: 0.05) with { Steps = 10 }, SchedulerConfig.Parse(Sd15Scheduler))));

    [Fact]
    public void Schedule_MoreStepsThanTrainingTimesteps_IsRejectedAsSteps() =>
        Assert.Equal("steps", RejectedField(() =>
            GenerationRules.Schedule(Txt2Img() with { Steps = 1001 }, SchedulerConfig.Parse(Sd15Scheduler))));

    [Theory]
    [InlineData(SchedulerKind.Default)]
    [InlineData(SchedulerKind.Ddim)]
    [InlineData(SchedulerKind.Ddpm)]
    public void Schedule_AsManyStepsAsTrainingTimestepsWithLeadingOffset_IsRejectedAsStepsNotCrashed(SchedulerKind kind) =>
        // leading spacing + steps_offset 1 with 1000 steps puts the last timestep at 1000, outside ᾱ[0..999]
        Assert.Equal("steps", RejectedField(() =>
            GenerationRules.Schedule(Txt2Img() with { Steps = 1000, Scheduler = kind }, SchedulerConfig.Parse(Sd15Scheduler))));

    [Fact]
    public void Schedule_OneStepFewerThanTrainingTimesteps_StaysInsideTheSchedule() =>
        Assert.Equal(999.0, GenerationRules.Schedule(Txt2Img() with { Steps = 999 }, SchedulerConfig.Parse(Sd15Scheduler)).Timesteps.Max());
}
