using System.Text.Json;
using MultiModal.Models.Schedulers;
using MultiModal.Tests.Testing;

namespace MultiModal.Tests.Golden.Schedulers;

/// <summary>Shared access to the diffusers 0.25.1 scheduler goldens (tests/Golden/Fixtures/tiny-sd, tiny-sd2-v).</summary>
internal static class SchedulerGolden
{
    private static readonly Lazy<JsonElement> SchedulersJsonLazy = new(() => ReadJson("tiny-sd", "schedulers.json"));
    private static readonly Lazy<GoldenTensors> TensorsLazy = new(() => new GoldenTensors(TestPaths.Fixture("tiny-sd", "schedulers.safetensors")));

    /// <summary>tiny-sd/schedulers.json (the -Infinity Python writes for lambda_min_clipped is read as a string).</summary>
    public static JsonElement SchedulersJson => SchedulersJsonLazy.Value;

    public static GoldenTensors Tensors => TensorsLazy.Value;

    /// <summary>The golden's scheduler names and the factory kind each was made with.</summary>
    public static readonly IReadOnlyDictionary<string, SchedulerKind> Kinds = new Dictionary<string, SchedulerKind>
    {
        ["ddim"] = SchedulerKind.Ddim,
        ["pndm"] = SchedulerKind.Pndm,
        ["euler"] = SchedulerKind.Euler,
        ["euler_ancestral"] = SchedulerKind.EulerAncestral,
        ["dpmpp_2m"] = SchedulerKind.DpmPP2M,
        ["dpmpp_2m_karras"] = SchedulerKind.DpmPP2MKarras,
        ["lms"] = SchedulerKind.Lms,
        ["ddpm"] = SchedulerKind.Ddpm,
    };

    public static JsonElement ReadJson(params string[] parts) =>
        JsonDocument.Parse(SchedulerJson.QuoteNonFiniteNumbers(File.ReadAllText(TestPaths.Fixture(parts)))).RootElement.Clone();

    /// <summary>The pipeline's own scheduler config (SD 1.5's PNDM file for tiny-sd, SD 2.1's DDIM v-prediction file for tiny-sd2-v).</summary>
    public static SchedulerConfig PipelineConfig(string fixture) =>
        SchedulerConfig.Load(TestPaths.Fixture(fixture, "pipeline", "scheduler", "scheduler_config.json"));

    public static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(SchedulerJson.GetDouble).ToArray();
}
