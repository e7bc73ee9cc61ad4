using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace MultiModal.Core.Hosting;

/// <summary>Ready when the model is loaded and the host is not shutting down (so balancers drain this pod first).</summary>
internal sealed class ReadinessHealthCheck(IModelReadiness readiness, IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("Shutting down.")
            : readiness.IsReady ? HealthCheckResult.Healthy("Model loaded.")
            : HealthCheckResult.Unhealthy("Model not loaded yet."));
}
