using System.Net;
using Google.Rpc;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Core.Hosting;
using MultiModal.Core.Hosting.Drain;
using MultiModal.Tests.Testing;
using Xunit;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace MultiModal.Tests.Unit.Core;

/// <summary>
/// Functional: a real Kestrel on 127.0.0.1:0 with the service defaults (section "Test", DrainSeconds 7) and a CLIP
/// handler that waits until its call is cancelled; the drain is driven through <see cref="DrainState"/> directly.
/// </summary>
public sealed class DrainInterceptorTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private GrpcChannel _channel = null!;
    private DrainState _drain = null!;
    private readonly WaitingClipService _clip = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection([new("Test:DrainSeconds", "7"), new("Logging:LogLevel:Default", "Critical")]);
        builder.AddGrpcServiceDefaults("test", "Test");
        builder.Services.AddSingleton(_clip);
        _app = builder.Build();
        _app.MapGrpcService<WaitingClipService>();
        _app.MapGrpcServiceDefaults();
        await _app.StartAsync().DefaultTimeout();
        _app.Services.GetRequiredService<ModelReadiness>().MarkReady();
        _drain = _app.Services.GetRequiredService<DrainState>();
        _channel = GrpcChannel.ForAddress(_app.Urls.Single());
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }

    [Fact]
    public void ShutdownTimeout_DrainSecondsConfigured_IsTheDrainTimePlusTheHostMargin()
    {
        var shutdown = _app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;

        Assert.Equal(TimeSpan.FromSeconds(7) + DrainOptions.HostMargin, shutdown);
    }

    [Fact]
    public async Task Interceptor_Draining_NewCallUnavailableDrainingWithRetryInfoWhileHealthAndReflectionAnswer()
    {
        var health = new Health.HealthClient(_channel);
        var readyBefore = await Check(health, "readiness");

        _drain.Begin();
        var error = await Assert.ThrowsAsync<RpcException>(() => EmbedTextsAsync());

        Assert.Equal(ServingStatus.Serving, readyBefore);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        var status = error.GetRpcStatus()!;
        var info = status.GetDetail<ErrorInfo>();
        Assert.Equal(("DRAINING", "multimodal", "7"), (info.Reason, info.Domain, info.Metadata["drainSeconds"]));
        Assert.NotNull(status.GetDetail<RetryInfo>());
        Assert.Equal(0, _clip.Entered.CurrentCount); // the handler never ran
        Assert.Equal(ServingStatus.NotServing, await Check(health, "readiness"));
        Assert.Equal(ServingStatus.Serving, await Check(health, "liveness"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetHealthzAsync());
        Assert.Contains("grpc.health.v1.Health", await ListServicesAsync());
        Assert.Equal(0, _drain.InFlight);
    }

    [Fact]
    public async Task Interceptor_CallRunningWhenTheDrainTimeRunsOut_UnavailableDrainingSayingSo()
    {
        var running = EmbedTextsAsync();
        Assert.True(await _clip.Entered.WaitAsync(MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan));
        var began = _drain.Begin();

        var cancelled = _drain.CancelRemaining();
        var error = await Assert.ThrowsAsync<RpcException>(() => running);
        await _drain.WaitForCallsAsync().DefaultTimeout();

        Assert.Equal((1, 0), began);
        Assert.Equal(1, cancelled);
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("drain time (7 s) ran out", error.Status.Detail);
        Assert.Equal("DRAINING", error.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
        Assert.NotNull(error.GetRpcStatus()!.GetDetail<RetryInfo>());
    }

    [Fact]
    public async Task Interceptor_ClientCancelsRunningCall_CancelledAndTheCallLeavesTheCount()
    {
        using var client = new CancellationTokenSource();
        var running = EmbedTextsAsync(client.Token);
        Assert.True(await _clip.Entered.WaitAsync(MultiModal.Tests.Testing.TaskExtensions.DefaultTimeoutSpan));
        var inFlight = _drain.InFlight;

        client.Cancel();
        var error = await Assert.ThrowsAsync<RpcException>(() => running);
        _drain.Begin();
        await _drain.WaitForCallsAsync().DefaultTimeout();

        Assert.Equal(1, inFlight);
        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
    }

    private async Task<EmbedTextsResponse> EmbedTextsAsync(CancellationToken cancellationToken = default) =>
        await new ClipService.ClipServiceClient(_channel)
            .EmbedTextsAsync(new EmbedTextsRequest { Texts = { "a cat" } }, cancellationToken: cancellationToken).ResponseAsync.DefaultTimeout();

    private static async Task<ServingStatus> Check(Health.HealthClient health, string service) =>
        (await health.CheckAsync(new HealthCheckRequest { Service = service }).ResponseAsync.DefaultTimeout()).Status;

    private async Task<HttpStatusCode> GetHealthzAsync()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(_app.Urls.Single()), ServiceDefaults.HealthzPath))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await http.SendAsync(request).DefaultTimeout();
        return response.StatusCode;
    }

    private async Task<string[]> ListServicesAsync()
    {
        using var call = new ServerReflection.ServerReflectionClient(_channel).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        return [.. call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name)];
    }

    /// <summary>Signals that it runs, then waits until its call is cancelled (by the client or by the drain).</summary>
    private sealed class WaitingClipService : ClipService.ClipServiceBase
    {
        public SemaphoreSlim Entered { get; } = new(0);

        public override async Task<EmbedTextsResponse> EmbedTexts(EmbedTextsRequest request, ServerCallContext context)
        {
            Entered.Release();
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
            return new EmbedTextsResponse();
        }
    }
}
