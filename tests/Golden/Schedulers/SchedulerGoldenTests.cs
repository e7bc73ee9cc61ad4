using System.Text.Json;
using MultiModal.Models.Schedulers;
using MultiModal.Tests.Testing;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MultiModal.Tests.Golden.Schedulers;

/// <summary>
/// Every scheduler against diffusers 0.25.1 (tiny-sd/schedulers.json + .safetensors, see shared/golden/sd/README.md):
/// config resolution from SD 1.5's PNDM file, set_timesteps tables, the 20-step loop with the fake model
/// eps = 0.1·scale_model_input(x, t) + 0.001·t (recorded noise replayed in call order), and add_noise.
/// </summary>
public sealed class SchedulerGoldenTests(ITestOutputHelper output)
{
    // README: integer timesteps exact, float timesteps and sigmas rtol 1e-5; loops atol 1e-4 + rtol 1e-4.
    private const double TableRtol = 1e-5;
    private const double LoopAtol = 1e-4, LoopRtol = 1e-4;

    public static TheoryData<string> Names => new(SchedulerGolden.Kinds.Keys);

    private static JsonElement Golden(string name) => SchedulerGolden.SchedulersJson.GetProperty("schedulers").GetProperty(name);

    private static IScheduler Create(string name, Func<SchedulerConfig, SchedulerConfig>? edit = null)
    {
        var config = SchedulerFactory.Resolve(SchedulerGolden.Kinds[name], SchedulerGolden.PipelineConfig("tiny-sd"));
        return SchedulerFactory.Create(edit is null ? config : edit(config));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FromConfig_Sd15PndmFile_ResolvesLikeDiffusers(string name)
    {
        var golden = Golden(name);
        var expected = golden.GetProperty("config");
        var config = Create(name).Config;

        Assert.Equal(golden.GetProperty("class").GetString(), config.ClassName);
        var accepted = SchedulerClasses.AcceptedKeys(config.ClassName);
        var actual = new Dictionary<string, object?>
        {
            ["num_train_timesteps"] = config.NumTrainTimesteps,
            ["beta_start"] = config.BetaStart,
            ["beta_end"] = config.BetaEnd,
            ["beta_schedule"] = config.BetaSchedule switch { BetaSchedule.ScaledLinear => "scaled_linear", var b => b.ToString() },
            ["prediction_type"] = config.PredictionType == PredictionType.Epsilon ? "epsilon" : "v_prediction",
            ["timestep_spacing"] = config.TimestepSpacing.ToString().ToLowerInvariant(),
            ["steps_offset"] = config.StepsOffset,
            ["clip_sample"] = config.ClipSample,
            ["set_alpha_to_one"] = config.SetAlphaToOne,
            ["skip_prk_steps"] = config.SkipPrkSteps,
            ["use_karras_sigmas"] = config.UseKarrasSigmas,
            ["solver_order"] = config.SolverOrder,
            ["algorithm_type"] = config.AlgorithmType,
            ["solver_type"] = config.SolverType,
            ["lower_order_final"] = config.LowerOrderFinal,
            ["variance_type"] = config.VarianceType,
            ["lambda_min_clipped"] = config.LambdaMinClipped,
        };
        var compared = 0;
        foreach (var (key, value) in actual)
        {
            if (!accepted.Contains(key) || !expected.TryGetProperty(key, out var e)) continue;
            object? want = e.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Null => null,
                JsonValueKind.String when e.GetString() is "-Infinity" => double.NegativeInfinity,
                JsonValueKind.String => e.GetString(),
                _ => value is int ? (object)e.GetInt32() : e.GetDouble(),
            };
            Assert.True(Equals(want, value), $"{name}.{key}: expected {want ?? "null"}, got {value ?? "null"}");
            compared++;
        }
        Assert.True(compared >= 7, $"only {compared} keys compared for {name}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void SetTimesteps_StepCounts_MatchDiffusersTables(string name)
    {
        var tables = Golden(name).GetProperty("set_timesteps");
        foreach (var table in tables.EnumerateObject())
        {
            var scheduler = Create(name);
            scheduler.SetTimesteps(int.Parse(table.Name));
            AssertTable(table.Value, scheduler, $"{name} N={table.Name}");
            var dtype = table.Value.GetProperty("timesteps_dtype").GetString();
            Assert.Equal(dtype, scheduler.TimestepDtype == ScalarType.Int64 ? "torch.int64" : "torch.float32");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void SetTimesteps_EachTimestepSpacing_MatchesDiffusersTables(string name)
    {
        var variants = Golden(name).GetProperty("timestep_spacing_variants");
        foreach (var (spacing, spacingName) in new[] { (TimestepSpacing.Leading, "leading"), (TimestepSpacing.Linspace, "linspace"), (TimestepSpacing.Trailing, "trailing") })
        {
            foreach (var table in variants.GetProperty(spacingName).EnumerateObject())
            {
                var scheduler = Create(name, c => c with { TimestepSpacing = spacing });
                scheduler.SetTimesteps(int.Parse(table.Name));
                AssertTable(table.Value, scheduler, $"{name} {spacingName} N={table.Name}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void SamplingLoop_FakeModelTwentySteps_MatchesDiffusers(string name)
    {
        using var scope = NewDisposeScope();
        var golden = Golden(name).GetProperty("loop");
        var tensors = SchedulerGolden.Tensors;
        var scheduler = Create(name);
        scheduler.SetTimesteps(golden.GetProperty("num_inference_steps").GetInt32());
        Assert.Equal(SchedulerGolden.Doubles(golden.GetProperty("timesteps")), scheduler.Timesteps);

        var noise = tensors.Names.Contains($"{name}.noise") ? new RecordedNoise(tensors[$"{name}.noise"]) : null;
        // the pipeline scales its N(0, 1) latents by init_noise_sigma (a float32 tensor for the σ-schedulers)
        var sample = tensors["initial_noise"] * (float)scheduler.InitNoiseSigma;
        Close(tensors[$"{name}.initial_sample"], sample, LoopAtol, LoopRtol, $"{name}.initial_sample");

        var modelInputs = new List<Tensor>();
        var samples = new List<Tensor>();
        var predOriginals = new List<Tensor>();
        foreach (var t in scheduler.Timesteps)
        {
            var x_in = scheduler.ScaleModelInput(sample, t);
            var eps = 0.1 * x_in + 0.001 * t;
            var output = scheduler.Step(eps, t, sample, noise);
            sample = output.PrevSample;
            modelInputs.Add(x_in);
            samples.Add(sample);
            if (output.PredOriginalSample is { } x0) predOriginals.Add(x0);
        }

        Close(tensors[$"{name}.model_inputs"], stack(modelInputs), LoopAtol, LoopRtol, $"{name}.model_inputs");
        Close(tensors[$"{name}.samples"], stack(samples), LoopAtol, LoopRtol, $"{name}.samples");
        Close(tensors[$"{name}.final_sample"], sample, LoopAtol, LoopRtol, $"{name}.final_sample");
        if (tensors.Names.Contains($"{name}.pred_original_samples"))
            Close(tensors[$"{name}.pred_original_samples"], stack(predOriginals), LoopAtol, LoopRtol, $"{name}.pred_original_samples");
        Assert.Equal(golden.GetProperty("noise_draws").GetInt32(), noise?.Taken ?? 0);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void AddNoise_FirstMiddleLastTimestep_MatchesDiffusers(string name)
    {
        using var scope = NewDisposeScope();
        var golden = Golden(name);
        var tensors = SchedulerGolden.Tensors;
        var scheduler = Create(name);
        scheduler.SetTimesteps(golden.GetProperty("loop").GetProperty("num_inference_steps").GetInt32());
        var original = tensors[$"{name}.add_noise.original"];
        var noise = tensors[$"{name}.add_noise.noise"];
        var timesteps = SchedulerGolden.Doubles(golden.GetProperty("add_noise").GetProperty("timesteps"));

        var noised = stack(timesteps.Select(t => scheduler.AddNoise(original, noise, t)).ToArray());

        Close(tensors[$"{name}.add_noise.noised"], noised, LoopAtol, LoopRtol, $"{name}.add_noise.noised");
    }

    /// <summary>TensorAssert.Close, also logging the max abs error and the share of the allowed error used.</summary>
    private void Close(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        using (NewDisposeScope())
        {
            var e = expected.to(ScalarType.Float64);
            var diff = (actual.to(ScalarType.Float64) - e).abs();
            var used = (diff / (atol + rtol * e.abs())).max().item<double>();
            output.WriteLine($"{what}: max abs err {diff.max().item<double>():G3}, {used:P1} of tolerance");
        }
        TensorAssert.Close(expected, actual, atol, rtol, what);
    }

    private static void AssertTable(JsonElement table, IScheduler scheduler, string what)
    {
        var timesteps = SchedulerGolden.Doubles(table.GetProperty("timesteps"));
        Assert.Equal(timesteps.Length, scheduler.Timesteps.Count);
        for (var i = 0; i < timesteps.Length; i++)
        {
            if (scheduler.TimestepDtype == ScalarType.Int64)
                Assert.True(timesteps[i] == scheduler.Timesteps[i], $"{what}: timestep {i} is {scheduler.Timesteps[i]}, expected {timesteps[i]}");
            else
                AssertRelClose(timesteps[i], scheduler.Timesteps[i], $"{what}: timestep {i}");
        }
        if (table.TryGetProperty("sigmas", out var sigmas))
        {
            var expected = SchedulerGolden.Doubles(sigmas);
            Assert.Equal(expected.Length, scheduler.Sigmas.Count);
            for (var i = 0; i < expected.Length; i++)
                AssertRelClose(expected[i], scheduler.Sigmas[i], $"{what}: sigma {i}");
        }
        AssertRelClose(table.GetProperty("init_noise_sigma").GetDouble(), scheduler.InitNoiseSigma, $"{what}: init_noise_sigma");
    }

    private static void AssertRelClose(double expected, double actual, string what) =>
        Assert.True(Math.Abs(actual - expected) <= TableRtol * Math.Abs(expected),
            $"{what}: expected {expected:R}, got {actual:R} (rtol {TableRtol})");
}
