using MultiModal.Models.Errors;
using MultiModal.Models.Schedulers;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace MultiModal.Tests.Unit.Schedulers;

public sealed class SchedulerBehaviourTests
{
    private const string Sd15 = """
        {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
         "clip_sample": false, "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1}
        """;

    private static SchedulerConfig VPrediction => SchedulerConfig.Parse(Sd15.Replace("\"steps_offset\": 1", "\"steps_offset\": 1, \"prediction_type\": \"v_prediction\""));

    public static TheoryData<SchedulerKind> KindsWithX0 =>
        [SchedulerKind.Ddim, SchedulerKind.Ddpm, SchedulerKind.Euler, SchedulerKind.EulerAncestral, SchedulerKind.Lms, SchedulerKind.DpmPP2M, SchedulerKind.DpmPP2MKarras];

    [Theory]
    [MemberData(nameof(KindsWithX0))]
    public void Step_VPredictionWithTrueVelocity_RecoversCleanSample(SchedulerKind kind)
    {
        using var scope = NewDisposeScope();
        var scheduler = SchedulerFactory.Create(kind, VPrediction);
        Assert.Equal(PredictionType.VPrediction, scheduler.Config.PredictionType);
        scheduler.SetTimesteps(10);
        var t = scheduler.Timesteps[3];
        var x0 = torch.tanh(torch.randn([1, 4, 8, 8], generator: new Generator(1)));
        var eps = torch.randn([1, 4, 8, 8], generator: new Generator(2));

        // x_t and v = √ᾱ·ε − √(1 − ᾱ)·x₀ at this step's noise level, in the scheduler's own parameterisation
        double alphaBar, sampleScale;
        if (scheduler.Sigmas.Count > 0)
        {
            // first step at index 3: σ-schedulers look the timestep up; ᾱ = 1/(σ² + 1)
            var sigma = scheduler.Sigmas[3];
            alphaBar = 1 / (sigma * sigma + 1);
            // Euler/LMS keep x in σ-space (x₀ + σε = x_t/√ᾱ); DPM-Solver keeps the VP sample
            sampleScale = kind is SchedulerKind.DpmPP2M or SchedulerKind.DpmPP2MKarras ? 1 : 1 / Math.Sqrt(alphaBar);
        }
        else
        {
            alphaBar = NoiseSchedules.AlphasCumprod(scheduler.Config)[(int)t];
            sampleScale = 1;
        }
        var x_t = Math.Sqrt(alphaBar) * x0 + Math.Sqrt(1 - alphaBar) * eps;
        var v = Math.Sqrt(alphaBar) * eps - Math.Sqrt(1 - alphaBar) * x0;
        var sample = x_t * sampleScale;

        scheduler.ScaleModelInput(sample, t);
        var output = scheduler.Step(v, t, sample, new RecordedNoise(torch.zeros([1, 1, 4, 8, 8])));

        TensorAssert.Close(x0, output.PredOriginalSample!, 2e-5, 2e-5, $"{kind} x̂₀");
    }

    [Fact]
    public void Step_PndmVPrediction_EqualsEpsilonStepWithConvertedOutput()
    {
        using var scope = NewDisposeScope();
        var vScheduler = SchedulerFactory.Create(SchedulerKind.Pndm, VPrediction);
        var epsScheduler = SchedulerFactory.Create(SchedulerKind.Pndm, SchedulerConfig.Parse(Sd15));
        vScheduler.SetTimesteps(10);
        epsScheduler.SetTimesteps(10);
        var t = vScheduler.Timesteps[0];
        var alphaBar = NoiseSchedules.AlphasCumprod(vScheduler.Config)[(int)t];
        var sample = torch.randn([1, 4, 8, 8], generator: new Generator(3));
        var v = torch.randn([1, 4, 8, 8], generator: new Generator(4));
        var eps = Math.Sqrt(alphaBar) * v + Math.Sqrt(1 - alphaBar) * sample;

        var fromV = vScheduler.Step(v, t, sample).PrevSample;
        var fromEps = epsScheduler.Step(eps, t, sample).PrevSample;

        TensorAssert.Close(fromEps, fromV, 1e-5, 1e-5, "PNDM v vs ε");
    }

    [Fact]
    public void GeneratorNoise_OneGeneratorPerImage_DrawsEachRowFromItsOwnGenerator()
    {
        using var scope = NewDisposeScope();
        var source = new GeneratorNoise([new Generator(7), new Generator(8)]);

        var first = source.Randn([2, 4, 8, 8], ScalarType.Float32, CPU);
        var second = source.Randn([2, 4, 8, 8], ScalarType.Float32, CPU);

        var g7 = new Generator(7);
        var g8 = new Generator(8);
        TensorAssert.Close(torch.randn([1, 4, 8, 8], generator: g7), first[..1], 0, 0, "row 0, draw 1");
        TensorAssert.Close(torch.randn([1, 4, 8, 8], generator: g8), first[1..], 0, 0, "row 1, draw 1");
        TensorAssert.Close(torch.randn([1, 4, 8, 8], generator: g7), second[..1], 0, 0, "row 0, draw 2");
        TensorAssert.Close(torch.randn([1, 4, 8, 8], generator: g8), second[1..], 0, 0, "row 1, draw 2");
    }

    [Fact]
    public void Step_EulerAncestralWithGenerator_DrawsLikeRandnWithThatGenerator()
    {
        using var scope = NewDisposeScope();
        SchedulerStepOutput Run(INoiseSource noise)
        {
            var s = SchedulerFactory.Create(SchedulerKind.EulerAncestral, SchedulerConfig.Parse(Sd15));
            s.SetTimesteps(5);
            var x = torch.ones(1, 4, 8, 8) * (float)s.InitNoiseSigma;
            s.ScaleModelInput(x, s.Timesteps[0]);
            return s.Step(torch.zeros(1, 4, 8, 8), s.Timesteps[0], x, noise);
        }
        var reference = torch.randn([1, 4, 8, 8], generator: new Generator(42)).unsqueeze(0);

        var seeded = Run(new GeneratorNoise(new Generator(42)));
        var replayed = Run(new RecordedNoise(reference));

        TensorAssert.Close(replayed.PrevSample, seeded.PrevSample, 0, 0, "Euler a prev_sample");
    }

    [Fact]
    public void RecordedNoise_MoreDrawsThanRecorded_Throws()
    {
        var noise = new RecordedNoise(torch.zeros(1, 2, 2));
        noise.Randn([2, 2], ScalarType.Float32, CPU);

        Assert.Throws<InvalidOperationException>(() => noise.Randn([2, 2], ScalarType.Float32, CPU));
    }

    [Theory]
    [InlineData(SchedulerKind.Ddim)]
    [InlineData(SchedulerKind.Euler)]
    [InlineData(SchedulerKind.DpmPP2M)]
    public void Step_BeforeSetTimesteps_Throws(SchedulerKind kind)
    {
        var scheduler = SchedulerFactory.Create(kind, SchedulerConfig.Parse(Sd15));

        Assert.Throws<InvalidOperationException>(() => scheduler.Step(torch.zeros(1), 500, torch.zeros(1)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void SetTimesteps_StepCountOutOfRange_Throws(int steps)
    {
        var scheduler = SchedulerFactory.Create(SchedulerKind.Ddim, SchedulerConfig.Parse(Sd15));

        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(steps));
    }

    [Theory]
    [InlineData(1.5)]
    [InlineData(-0.1)]
    [InlineData(0.1)] // int(8 · 0.1) = 0: DDIM has no step left (PNDM would still run its repeated last timestep)
    public void Img2ImgSelect_StrengthOutOfRangeOrTooSmall_RejectsInput(double strength)
    {
        var scheduler = SchedulerFactory.Create(SchedulerKind.Ddim, SchedulerConfig.Parse(Sd15));
        scheduler.SetTimesteps(8);

        var ex = Assert.Throws<InputRejectedException>(() => Img2ImgTimesteps.Select(scheduler, 8, strength));

        Assert.Equal(InputRejection.Invalid, ex.Kind);
        Assert.Equal("strength", ex.Field);
    }

    [Fact]
    public void Img2ImgSelect_EulerMidSchedule_FirstStepUsesThatTimestepsSigma()
    {
        using var scope = NewDisposeScope();
        var scheduler = SchedulerFactory.Create(SchedulerKind.Euler, SchedulerConfig.Parse(Sd15));
        scheduler.SetTimesteps(10);
        var selected = Img2ImgTimesteps.Select(scheduler, 10, 0.5);
        var sample = torch.ones(1, 4, 2, 2);

        var scaled = scheduler.ScaleModelInput(sample, selected.StartTimestep);

        var sigma = scheduler.Sigmas[5];
        Assert.Equal(5, selected.Timesteps.Count);
        Assert.Equal(1 / Math.Sqrt(sigma * sigma + 1), scaled[0, 0, 0, 0].item<float>(), 6);
    }
}
