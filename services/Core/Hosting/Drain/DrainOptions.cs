namespace MultiModal.Core.Hosting.Drain;

/// <summary>
/// Graceful drain on SIGTERM, bound from the service's own section: <c>Clip:DrainSeconds</c>,
/// <c>Vision:DrainSeconds</c>, <c>Diffusion:DrainSeconds</c> (environment <c>Diffusion__DrainSeconds</c>).
/// </summary>
public sealed class DrainOptions
{
    /// <summary>Default <see cref="DrainSeconds"/>.</summary>
    public const int DefaultDrainSeconds = 30;

    /// <summary>
    /// What the host adds to the drain time for its own <c>HostOptions.ShutdownTimeout</c>: the cancelled calls'
    /// statuses going out and Kestrel closing its connections. Kubernetes' <c>terminationGracePeriodSeconds</c> adds
    /// <see cref="KubernetesMarginSeconds"/> instead, which also covers the model's disposal and the process exit.
    /// </summary>
    public static readonly TimeSpan HostMargin = TimeSpan.FromSeconds(5);

    /// <summary>terminationGracePeriodSeconds = DrainSeconds + this (k8s/base: settings.env, deployment.yaml; tests/Unit/K8s ties them).</summary>
    public const int KubernetesMarginSeconds = 10;

    /// <summary>
    /// How long running calls and streams may go on after SIGTERM before they are cancelled (UNAVAILABLE, DRAINING).
    /// 0 cancels them at once.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 86_400)]
    public int DrainSeconds { get; set; } = DefaultDrainSeconds;

    /// <summary><see cref="DrainSeconds"/> as a span.</summary>
    public TimeSpan DrainTime => TimeSpan.FromSeconds(DrainSeconds);
}
