using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace MultiModal.Gateway.Retry;

/// <summary>Wires unary retries and the two health policies they rely on.</summary>
public static class RetryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="UnaryMethods"/> (from the Contracts descriptors), <c>Gateway:Retry</c> options and the
    /// <c>MarkDownOnFailure</c> passive / <c>ProbeRestores</c> active health policies (selected per cluster in
    /// <c>ReverseProxy:Clusters:&lt;id&gt;:HealthCheck</c>).
    /// </summary>
    public static IServiceCollection AddGatewayRetries(this IServiceCollection services)
    {
        services.AddSingleton(_ => UnaryMethods.FromContracts());
        services.AddOptions<RetryOptions>().BindConfiguration(RetryOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RetryOptions>>(new ValidateRetryOptions());
        services.AddSingleton<IPassiveHealthCheckPolicy, MarkDownOnFailurePolicy>();
        services.AddSingleton<IActiveHealthCheckPolicy, ProbeRestoresPolicy>();
        return services;
    }

    /// <summary>Adds <see cref="UnaryRetryMiddleware"/>; call it first in the proxy pipeline, before load balancing.</summary>
    public static IReverseProxyApplicationBuilder UseUnaryRetries(this IReverseProxyApplicationBuilder pipeline)
    {
        pipeline.UseMiddleware<UnaryRetryMiddleware>();
        return pipeline;
    }

    private sealed class ValidateRetryOptions : IValidateOptions<RetryOptions>
    {
        public ValidateOptionsResult Validate(string? name, RetryOptions options) =>
            RetryOptions.Validate(options).ToArray() is { Length: > 0 } failures
                ? ValidateOptionsResult.Fail(failures)
                : ValidateOptionsResult.Success;
    }
}
