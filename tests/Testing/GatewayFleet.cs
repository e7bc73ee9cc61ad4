using Grpc.Core;

namespace MultiModal.Tests.Testing;

/// <summary>The gateway as a real process in front of one backend service, as the integration fixtures use it.</summary>
public static class GatewayFleet
{
    /// <summary>
    /// Starts the gateway routing <paramref name="cluster"/> (clip, vision, diffusion) to the backend; the others off.
    /// <paramref name="arguments"/> are added to the command line.
    /// </summary>
    public static Task<ServiceProcess> StartGatewayAsync(string cluster, Uri backend, IEnumerable<string>? arguments = null)
        => StartGatewayAsync(cluster, [backend], arguments);

    /// <summary>
    /// Starts the gateway routing <paramref name="cluster"/> to several replicas, destinations
    /// <c>&lt;cluster&gt;-0</c>, <c>&lt;cluster&gt;-1</c>, ... in the order given; the other clusters off.
    /// </summary>
    public static Task<ServiceProcess> StartGatewayAsync(string cluster, IReadOnlyList<Uri> backends, IEnumerable<string>? arguments = null)
    {
        string Upstream(string name) =>
            $"--Gateway:Upstreams:{name}={(name.Equals(cluster, StringComparison.OrdinalIgnoreCase) ? string.Join(',', backends) : "none")}";
        return ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"),
            [Upstream("Clip"), Upstream("Vision"), Upstream("Diffusion"), .. arguments ?? []]);
    }

    /// <summary>
    /// Starts the gateway routing each cluster named in <paramref name="backends"/> (clip, vision, diffusion) to its
    /// replica, as <c>make run</c> does; clusters not named are off.
    /// </summary>
    public static Task<ServiceProcess> StartGatewayAsync(IReadOnlyDictionary<string, Uri> backends, IEnumerable<string>? arguments = null)
    {
        string Upstream(string name) =>
            $"--Gateway:Upstreams:{name}={backends.FirstOrDefault(b => b.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value?.ToString() ?? "none"}";
        return ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"),
            [Upstream("Clip"), Upstream("Vision"), Upstream("Diffusion"), .. arguments ?? []]);
    }

    /// <summary>
    /// Calls <paramref name="probe"/> (e.g. GetModelInfo through the gateway) until it succeeds: the gateway's active
    /// health check marks a new destination healthy within its first probe.
    /// </summary>
    public static async Task WaitUntilRoutedAsync(Func<DateTime, Task> probe)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await probe(DateTime.UtcNow.AddSeconds(5));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
