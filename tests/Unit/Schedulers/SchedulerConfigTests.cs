using MultiModal.Models.Schedulers;
using Xunit;

namespace MultiModal.Tests.Unit.Schedulers;

public sealed class SchedulerConfigTests
{
    // SD 1.5's scheduler_config.json verbatim.
    private const string Sd15 = """
        {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012, "beta_schedule": "scaled_linear",
         "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000, "set_alpha_to_one": false,
         "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null}
        """;

    [Fact]
    public void Parse_Sd15FileAsItsOwnClass_ReadsPndmSettings()
    {
        var config = SchedulerConfig.Parse(Sd15);

        Assert.Equal(SchedulerClasses.Pndm, config.ClassName);
        Assert.Equal(BetaSchedule.ScaledLinear, config.BetaSchedule);
        Assert.Equal(0.00085, config.BetaStart);
        Assert.True(config.SkipPrkSteps);
        Assert.Equal(1, config.StepsOffset);
        Assert.Equal(TimestepSpacing.Leading, config.TimestepSpacing);
        Assert.Equal(PredictionType.Epsilon, config.PredictionType);
    }

    [Theory]
    [InlineData(SchedulerClasses.EulerDiscrete, TimestepSpacing.Linspace)]
    [InlineData(SchedulerClasses.EulerAncestralDiscrete, TimestepSpacing.Linspace)]
    [InlineData(SchedulerClasses.LmsDiscrete, TimestepSpacing.Linspace)]
    [InlineData(SchedulerClasses.DpmSolverMultistep, TimestepSpacing.Linspace)]
    [InlineData(SchedulerClasses.Ddim, TimestepSpacing.Leading)]
    [InlineData(SchedulerClasses.Ddpm, TimestepSpacing.Leading)]
    public void ForClass_KeyAbsentFromFile_TakesThatClassDefault(string className, TimestepSpacing expected)
    {
        var config = SchedulerConfig.Parse(Sd15).ForClass(className);

        Assert.Equal(className, config.ClassName);
        Assert.Equal(expected, config.TimestepSpacing);
        Assert.Equal(1, config.StepsOffset);
    }

    [Fact]
    public void ForClass_Ddim_CarriesClipSampleFalseButDefaultsWithoutIt()
    {
        var fromSd15 = SchedulerConfig.Parse(Sd15).ForClass(SchedulerClasses.Ddim);
        var bare = SchedulerConfig.Parse("""{"_class_name": "PNDMScheduler"}""").ForClass(SchedulerClasses.Ddim);

        Assert.False(fromSd15.ClipSample);
        Assert.False(fromSd15.SetAlphaToOne);
        Assert.True(bare.ClipSample);      // DDIM's own default
        Assert.True(bare.SetAlphaToOne);   // DDIM's own default (PNDM's is false)
        Assert.Equal("fixed_small", bare.ForClass(SchedulerClasses.Ddpm).VarianceType);
    }

    [Fact]
    public void Parse_KeysListedInUseDefaultValues_CountAsAbsent()
    {
        const string json = """
            {"_class_name": "PNDMScheduler", "timestep_spacing": "leading", "prediction_type": "v_prediction",
             "_use_default_values": ["timestep_spacing"]}
            """;

        var euler = SchedulerConfig.Parse(json, SchedulerClasses.EulerDiscrete);

        Assert.Equal(TimestepSpacing.Linspace, euler.TimestepSpacing);
        Assert.Equal(PredictionType.VPrediction, euler.PredictionType);
    }

    [Fact]
    public void Parse_KeyTheClassDoesNotAccept_IsIgnored()
    {
        const string json = """{"_class_name": "LMSDiscreteScheduler", "use_karras_sigmas": true, "unknown_key": 3}""";

        Assert.True(SchedulerConfig.Parse(json).UseKarrasSigmas);
        Assert.False(SchedulerConfig.Parse(json, SchedulerClasses.Ddim).UseKarrasSigmas);
    }

    [Fact]
    public void Parse_PythonNegativeInfinity_ReadsAsNegativeInfinity()
    {
        const string json = """{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "algorithm_type": "dpmsolver++", "note": "Infinity"}""";

        var config = SchedulerConfig.Parse(json);

        Assert.Equal(double.NegativeInfinity, config.LambdaMinClipped);
        Assert.Contains("\"note\": \"Infinity\"", config.SourceJson);
    }

    [Theory]
    [InlineData("""{"_class_name": "HeunDiscreteScheduler"}""")]
    [InlineData("""{"_class_name": "DDIMScheduler", "prediction_type": "sample"}""")]
    [InlineData("""{"_class_name": "DDIMScheduler", "thresholding": true}""")]
    [InlineData("""{"_class_name": "DDIMScheduler", "timestep_spacing": "karras"}""")]
    [InlineData("""{"_class_name": "DDIMScheduler", "beta_schedule": "quadratic"}""")]
    public void Parse_UnsupportedSetting_ThrowsNotSupported(string json)
    {
        Assert.Throws<NotSupportedException>(() => SchedulerConfig.Parse(json));
    }

    [Fact]
    public void Parse_NoClassName_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => SchedulerConfig.Parse("""{"beta_start": 0.001}"""));
    }

    [Fact]
    public void Resolve_DpmPlusPlus2MKarrasFromDpmFileWithOtherAlgorithm_ForcesTheNamedSampler()
    {
        var dpm = SchedulerConfig.Parse("""{"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "dpmsolver", "solver_order": 1}""");

        var karras = SchedulerFactory.Resolve(SchedulerKind.DpmPP2MKarras, dpm);
        var plain = SchedulerFactory.Resolve(SchedulerKind.DpmPP2M, karras);

        Assert.Equal(("dpmsolver++", 2, "midpoint", true), (karras.AlgorithmType, karras.SolverOrder, karras.SolverType, karras.UseKarrasSigmas));
        Assert.False(plain.UseKarrasSigmas);
        Assert.IsType<DpmSolverMultistepScheduler>(SchedulerFactory.Create(SchedulerKind.DpmPP2MKarras, dpm));
    }

    [Theory]
    [InlineData(SchedulerKind.Default, typeof(PndmScheduler))]
    [InlineData(SchedulerKind.Ddim, typeof(DdimScheduler))]
    [InlineData(SchedulerKind.Pndm, typeof(PndmScheduler))]
    [InlineData(SchedulerKind.Euler, typeof(EulerDiscreteScheduler))]
    [InlineData(SchedulerKind.EulerAncestral, typeof(EulerAncestralDiscreteScheduler))]
    [InlineData(SchedulerKind.DpmPP2M, typeof(DpmSolverMultistepScheduler))]
    [InlineData(SchedulerKind.Lms, typeof(LmsDiscreteScheduler))]
    [InlineData(SchedulerKind.Ddpm, typeof(DdpmScheduler))]
    public void Create_EachKind_BuildsItsClass(SchedulerKind kind, Type expected)
    {
        Assert.IsType(expected, SchedulerFactory.Create(kind, SchedulerConfig.Parse(Sd15)));
    }
}
