using MultiModal.Contracts.Diffusion.V1;

namespace MultiModal.Cli.Generate;

/// <summary>The <c>--scheduler</c> names and the wire's enum, both ways.</summary>
internal static class Schedulers
{
    private static readonly Dictionary<string, Scheduler> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ddim"] = Scheduler.Ddim, ["pndm"] = Scheduler.Pndm, ["euler"] = Scheduler.Euler, ["euler-a"] = Scheduler.EulerAncestral,
        ["dpmpp-2m"] = Scheduler.Dpmpp2M, ["dpmpp-2m-karras"] = Scheduler.Dpmpp2MKarras, ["lms"] = Scheduler.Lms, ["ddpm"] = Scheduler.Ddpm,
    };

    public static string[] Names => [.. ByName.Keys];

    public static Scheduler Parse(string? name) => name is null ? Scheduler.Unspecified : ByName[name];

    public static string Name(Scheduler scheduler) =>
        ByName.FirstOrDefault(pair => pair.Value == scheduler).Key ?? "model default";
}
