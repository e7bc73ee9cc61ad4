namespace MultiModal.Models.Runtime;

/// <summary>
/// Makes libtorch's OpenMP workers sleep soon after a parallel region instead of spinning for milliseconds, so work on
/// other threads (the CPU gemv of a bfloat16 decode step, image decoding, gRPC, a peer runtime) gets the cores.
/// </summary>
/// <remarks>
/// libtorch's CPU build runs its intra-op parallelism on GNU OpenMP (libgomp). With no wait policy set, libgomp's idle
/// workers spin <c>GOMP_SPINCOUNT</c> = 300 000 pause iterations (milliseconds on an AMD Zen 5) before they block. On a
/// 2-vCPU machine that spinning worker holds one of the two cores while the next step runs on .NET threads: a bfloat16
/// LLaVA decode step took 143 ms with the default and 80–85 ms with a short spin, its products alone 62–70 ms
/// (tests/Bench/README.md, "bfloat16 decode"). CLIP forward passes, which stay inside libtorch, were as fast or faster
/// (image batch 1: 63.8 → 50.3 ms), and the peer runtime measured beside them ran faster too. <c>OMP_WAIT_POLICY=passive</c>
/// (no spin at all) cost CLIP batch 1 and 8 a futex wake per region; 1 000 iterations (~tens of µs) keeps the workers
/// hot across the back-to-back regions of one operator and lets them sleep between operators.
/// libgomp reads its environment once, when it is loaded, so this runs before libtorch is loaded. Left alone when the
/// operator set <c>GOMP_SPINCOUNT</c> or <c>OMP_WAIT_POLICY</c>.
/// </remarks>
internal static class OpenMpSpinPolicy
{
    public const string SpinCountVariable = "GOMP_SPINCOUNT";
    public const string WaitPolicyVariable = "OMP_WAIT_POLICY";
    public const string SpinCount = "1000";

    public static string State { get; private set; } = "not applied";

    /// <summary>Call before libtorch (and with it libgomp) is loaded.</summary>
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux())
            State = "not applied (not Linux)";
        else if (NativeEnvironment.Get(SpinCountVariable) is { } count)
            State = $"operator's {SpinCountVariable}={count} kept";
        else if (NativeEnvironment.Get(WaitPolicyVariable) is { } policy)
            State = $"operator's {WaitPolicyVariable}={policy} kept";
        else
            State = NativeEnvironment.SetIfUnset(SpinCountVariable, SpinCount)
                ? $"applied: {SpinCountVariable}={SpinCount}"
                : $"not applied (setenv {SpinCountVariable} failed)";
    }
}
