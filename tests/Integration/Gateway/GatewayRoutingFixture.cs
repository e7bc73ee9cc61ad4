using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using MultiModal.Tests.Integration.Gateway.Backends;
using MultiModal.Tests.Testing;
using Xunit;

namespace MultiModal.Tests.Integration.Gateway;

/// <summary>
/// The gateway as a real process in front of in-test backends: clip → two healthy echo backends plus one whose
/// <c>/healthz</c> answers 503; diffusion → one scripted backend;
/// vision → a name that does not resolve and a closed port.
/// </summary>
public sealed class GatewayRoutingFixture : IAsyncLifetime
{
    public TestBackendHost ClipA { get; private set; } = null!;
    public TestBackendHost ClipB { get; private set; } = null!;
    public TestBackendHost ClipFailingHealthCheck { get; private set; } = null!;
    public ScriptedDiffusionBackend Diffusion { get; } = new("diffusion-a");
    public ServiceProcess Gateway { get; private set; } = null!;
    public GrpcChannel Channel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ClipA = await TestBackendHost.StartAsync(new EchoClipBackend("clip-a"));
        ClipB = await TestBackendHost.StartAsync(new EchoClipBackend("clip-b"));
        ClipFailingHealthCheck = await TestBackendHost.StartAsync(new EchoClipBackend("clip-sick"), healthy: false);
        var diffusion = await TestBackendHost.StartAsync(Diffusion);
        _hosts = [ClipA, ClipB, ClipFailingHealthCheck, diffusion];

        Gateway = await ServiceProcess.StartAsync(BuildOutputs.Dll("gateway", "Gateway"),
        [
            $"--Gateway:Upstreams:Clip={ClipA.Address},{ClipB.Address},{ClipFailingHealthCheck.Address}",
            $"--Gateway:Upstreams:Diffusion={diffusion.Address}",
            // .invalid never resolves (RFC 2606): the gateway must start anyway and route around it.
            $"--Gateway:Upstreams:Vision=http://unresolvable.invalid:5102,{LoopbackPorts.ClosedUrl()}",
            // Probe often so the failing destination is marked within a second, not after 2 × 5 s.
            "--ReverseProxy:Clusters:clip:HealthCheck:Active:Interval=00:00:00.200",
        ]);
        Channel = GrpcChannel.ForAddress(Gateway.Address);
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        Gateway?.Dispose();
        foreach (var host in _hosts)
            await host.DisposeAsync();
    }

    private TestBackendHost[] _hosts = [];

}
