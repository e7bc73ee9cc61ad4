using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using MultiModal.Core.Hosting.Drain;

namespace MultiModal.Core.Hosting;

/// <summary>
/// Ready when the model is loaded and the server is neither draining nor shutting down (so balancers send this pod
/// nothing new from the moment SIGTERM arrives).
/// </summary>
internal sealed class ReadinessHealthCheck(IModelReadiness readiness, IHostApplicationLifetime lifetime, DrainState drain) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            drain.IsDraining || lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("Draining: shutting down.")
            : readiness.IsReady ? HealthCheckResult.Healthy("Model loaded.")
            : HealthCheckResult.Unhealthy("Model not loaded yet."));
}
