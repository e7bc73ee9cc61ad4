using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MultiModal.Tests.Bench.Peers;

/// <summary>What a peer table must say about where it ran: CPU model (lscpu "Model name"), the AVX-512 flags that
/// decide the kernels both runtimes pick, core count and the project commit.</summary>
public sealed record MachineHeader(string CpuModel, string FamilyModel, bool Avx512F, bool Avx512Bf16, bool AmxBf16, int Processors, string Commit)
{
    public static MachineHeader Read()
    {
        var cpuinfo = File.Exists("/proc/cpuinfo") ? File.ReadAllLines("/proc/cpuinfo") : [];
        var flags = (Field(cpuinfo, "flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var lscpu = Run("lscpu", "") ?? [];
        var model = Field(lscpu, "Model name") ?? Field(cpuinfo, "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();
        // VMs often show a bare "AMD EPYC": family/model tell Zen 3 (25/1) from Zen 5 (26/2).
        var familyModel = $"family {Field(lscpu, "CPU family") ?? Field(cpuinfo, "cpu family") ?? "?"} model {Field(lscpu, "Model") ?? Field(cpuinfo, "model") ?? "?"}";
        var commit = Run("git", "rev-parse --short HEAD")?.FirstOrDefault() ?? "unknown";
        var dirty = Run("git", "status --porcelain --untracked-files=no") is { Length: > 0 } changes && changes.Any(l => l.Length > 0);
        return new MachineHeader(model, familyModel, flags.Contains("avx512f"), flags.Contains("avx512_bf16"), flags.Contains("amx_bf16"),
            Environment.ProcessorCount, dirty ? commit + "+uncommitted" : commit);
    }

    public override string ToString() =>
        $"CPU: {CpuModel} ({FamilyModel}); avx512f {YesNo(Avx512F)}, avx512_bf16 {YesNo(Avx512Bf16)}, amx_bf16 {YesNo(AmxBf16)}; " +
        $"{Processors} logical CPUs; commit {Commit}";

    private static string YesNo(bool b) => b ? "yes" : "no";

    private static string? Field(IEnumerable<string> lines, string key) => lines
        .Select(l => l.Split(':', 2))
        .Where(p => p.Length == 2 && p[0].Trim().Equals(key, StringComparison.OrdinalIgnoreCase))
        .Select(p => p[1].Trim())
        .FirstOrDefault();

    private static string[]? Run(string file, string args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true });
            if (p is null) return null;
            var text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? text.Split('\n') : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // tool not installed
        }
    }
}
