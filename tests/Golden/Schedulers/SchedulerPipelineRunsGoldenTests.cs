using System.Text.Json;
using MultiModal.Models.Schedulers;
using Xunit;

namespace MultiModal.Tests.Golden.Schedulers;

/// <summary>
/// The schedulers the tiny-sd (SD 1.5 PNDM config) and tiny-sd2-v (SD 2.1 DDIM v-prediction config) pipeline goldens
/// ran with (golden.json runs, seeded.json cases): resolved class, prediction type and spacing, the timesteps used,
/// init_noise_sigma, and img2img's timestep selection and add_noise timestep.
/// </summary>
public sealed class SchedulerPipelineRunsGoldenTests
{
    public static TheoryData<string, string> Txt2ImgRuns => RunsOf("txt2img.");
    public static TheoryData<string, string> Img2ImgRuns => RunsOf("img2img.");

    public static TheoryData<string, string> SeededCases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var fixture in new[] { "tiny-sd", "tiny-sd2-v" })
                foreach (var c in SchedulerGolden.ReadJson(fixture, "seeded.json").GetProperty("cases").EnumerateArray())
                    data.Add(fixture, c.GetProperty("name").GetString()!);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Txt2ImgRuns))]
    public void Txt2Img_PipelineSchedulerSwap_MatchesDiffusersRun(string fixture, string run)
    {
        var golden = Run(fixture, run);
        var kind = run["txt2img.".Length..] switch
        {
            "euler" => SchedulerKind.Euler,
            "ddim" => SchedulerKind.Ddim,
            _ => SchedulerKind.Default, // "pndm" / "default": the pipeline's own scheduler
        };
        var scheduler = SchedulerFactory.Create(kind, SchedulerGolden.PipelineConfig(fixture));
        scheduler.SetTimesteps(golden.GetProperty("num_inference_steps").GetInt32());

        Assert.Equal(golden.GetProperty("scheduler").GetString(), scheduler.Config.ClassName);
        var config = golden.GetProperty("scheduler_config");
        Assert.Equal(config.GetProperty("prediction_type").GetString(),
            scheduler.Config.PredictionType == PredictionType.VPrediction ? "v_prediction" : "epsilon");
        Assert.Equal(config.GetProperty("timestep_spacing").GetString(), scheduler.Config.TimestepSpacing.ToString().ToLowerInvariant());
        Assert.Equal(SchedulerGolden.Doubles(golden.GetProperty("timesteps")), scheduler.Timesteps);
        Assert.Equal(golden.GetProperty("init_noise_sigma").GetDouble(), scheduler.InitNoiseSigma, 1e-5 * scheduler.InitNoiseSigma);
    }

    [Theory]
    [MemberData(nameof(Img2ImgRuns))]
    public void Img2Img_Strength_SelectsDiffusersTimestepsAndNoiseLevel(string fixture, string run)
    {
        var golden = Run(fixture, run);
        var steps = golden.GetProperty("num_inference_steps").GetInt32();
        var scheduler = SchedulerFactory.Create(SchedulerKind.Default, SchedulerGolden.PipelineConfig(fixture));
        scheduler.SetTimesteps(steps);

        var selected = Img2ImgTimesteps.Select(scheduler, steps, golden.GetProperty("strength").GetDouble());

        Assert.Equal(golden.GetProperty("scheduler").GetString(), scheduler.Config.ClassName);
        Assert.Equal(SchedulerGolden.Doubles(golden.GetProperty("full_timesteps_after_set_timesteps")), scheduler.Timesteps);
        Assert.Equal(SchedulerGolden.Doubles(golden.GetProperty("timesteps_used")), selected.Timesteps);
        Assert.Equal(SchedulerGolden.Doubles(golden.GetProperty("add_noise_timestep")), new[] { selected.StartTimestep });
    }

    [Theory]
    [MemberData(nameof(SeededCases))]
    public void Seeded_ServiceSchedulerName_BuildsDiffusersClassAndTimesteps(string fixture, string name)
    {
        var golden = SchedulerGolden.ReadJson(fixture, "seeded.json").GetProperty("cases").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == name);
        var kind = golden.GetProperty("scheduler").GetString() switch
        {
            "SCHEDULER_UNSPECIFIED" => SchedulerKind.Default,
            "SCHEDULER_EULER_ANCESTRAL" => SchedulerKind.EulerAncestral,
            "SCHEDULER_DPMPP_2M_KARRAS" => SchedulerKind.DpmPP2MKarras,
            var other => throw new Xunit.Sdk.XunitException($"unmapped scheduler {other}"),
        };
        var scheduler = SchedulerFactory.Create(kind, SchedulerGolden.PipelineConfig(fixture));
        scheduler.SetTimesteps(golden.GetProperty("steps").GetInt32());

        Assert.Equal(golden.GetProperty("scheduler_class").GetString(), scheduler.Config.ClassName);
        Assert.Equal(SchedulerGolden.Doubles(golden.GetProperty("timesteps")), scheduler.Timesteps);
    }

    private static JsonElement Run(string fixture, string run) =>
        SchedulerGolden.ReadJson(fixture, "golden.json").GetProperty("runs").GetProperty(run);

    private static TheoryData<string, string> RunsOf(string prefix)
    {
        var data = new TheoryData<string, string>();
        foreach (var fixture in new[] { "tiny-sd", "tiny-sd2-v" })
            foreach (var run in SchedulerGolden.ReadJson(fixture, "golden.json").GetProperty("runs").EnumerateObject())
                if (run.Name.StartsWith(prefix, StringComparison.Ordinal))
                    data.Add(fixture, run.Name);
        return data;
    }
}
