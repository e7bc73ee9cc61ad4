using Microsoft.Extensions.Options;

namespace MultiModal.Gateway;

/// <summary>
/// Fails start-up on a <c>Gateway:Upstreams</c> key that names no cluster (a typo would otherwise leave the
/// cluster on its localhost defaults) or on a value that is not a list of http(s) URLs.
/// </summary>
internal sealed class GatewayOptionsValidator(IConfiguration configuration) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var clusterIds = configuration.GetSection("ReverseProxy:Clusters").GetChildren().Select(c => c.Key)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var failures = new List<string>();

        foreach (var (clusterId, value) in options.Upstreams)
        {
            if (!clusterIds.Contains(clusterId))
                failures.Add($"Gateway:Upstreams:{clusterId} names no cluster in ReverseProxy:Clusters " +
                             $"(known: {string.Join(", ", clusterIds)}).");
            try
            {
                GatewayOptions.ParseUpstreams(clusterId, value);
            }
            catch (FormatException ex)
            {
                failures.Add(ex.Message);
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
