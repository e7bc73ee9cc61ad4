using MultiModal.Tests.Testing;
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
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Core.Errors;
using MultiModal.Core.Hosting;
using MultiModal.Models.Errors;
using Xunit;

namespace MultiModal.Tests.Unit.Core;

/// <summary>Functional: a real Kestrel on 127.0.0.1:0 with the service defaults, called over h2c like YARP does.</summary>
public sealed class ServiceDefaultsTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private GrpcChannel _channel = null!;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        _app = await StartAppAsync();
        _address = new Uri(_app.Urls.Single());
        _channel = GrpcChannel.ForAddress(_address);
    }

    private static async Task<WebApplication> StartAppAsync(params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(
            settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)).Append(new("Logging:LogLevel:Default", "Critical")));
        builder.AddGrpcServiceDefaults("test");
        var app = builder.Build();
        app.MapGrpcService<FailingClipService>();
        app.MapGrpcService<FailingDiffusionService>();
        app.MapGrpcServiceDefaults();
        await app.StartAsync().DefaultTimeout();
        return app;
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Readiness_MarkReady_FlipsGrpcReadinessAndHealthz()
    {
        var health = new Health.HealthClient(_channel);

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await Check(health, "liveness"));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, await Check(health, "readiness"));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, await Check(health, ""));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await GetHealthz());

        _app.Services.GetRequiredService<ModelReadiness>().MarkReady();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await Check(health, "readiness"));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, await Check(health, ""));
        Assert.Equal(HttpStatusCode.OK, await GetHealthz());
    }

    [Fact]
    public async Task Kestrel_NoProtocolsConfigured_RefusesHttp11()
    {
        var (status, body) = await GetHealthzHttp11(_address);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("HTTP/2 only endpoint", body);
    }

    [Fact]
    public async Task Kestrel_ProtocolsConfigured_ConfigurationWins()
    {
        await using var app = await StartAppAsync(("Kestrel:EndpointDefaults:Protocols", "Http1"));

        var (status, _) = await GetHealthzHttp11(new Uri(app.Urls.Single()));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status); // served over HTTP/1.1; not ready yet
        await app.StopAsync().DefaultTimeout();
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetHealthzHttp11(Uri address)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(address, ServiceDefaults.HealthzPath))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await http.SendAsync(request).DefaultTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Reflection_ListServices_IncludesHostServicesAndHealth()
    {
        var reflection = new ServerReflection.ServerReflectionClient(_channel);
        using var call = reflection.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToArray();
        Assert.Contains("multimodal.clip.v1.ClipService", names);
        Assert.Contains("grpc.health.v1.Health", names);
    }

    [Fact]
    public async Task Interceptor_UnaryInferenceException_ClientReadsErrorInfoAndBadRequest()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => EmbedTexts("bad"));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var status = ex.GetRpcStatus()!;
        Assert.Equal("INVALID_INPUT", status.GetDetail<ErrorInfo>().Reason);
        Assert.Equal("texts[0]", Assert.Single(status.GetDetail<BadRequest>().FieldViolations).Field);
    }

    [Fact]
    public async Task Interceptor_UnaryInputRejected_InvalidArgumentWithModelReason()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => EmbedTexts("rejected"));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("PROMPT_TOO_LONG", ex.GetRpcStatus()!.GetDetail<ErrorInfo>().Reason);
    }

    [Fact]
    public async Task Interceptor_UnaryUnexpectedException_InternalWithoutExceptionText()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => EmbedTexts("bug"));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.DoesNotContain("secret", ex.Status.Detail);
        var info = ex.GetRpcStatus()!.GetDetail<ErrorInfo>();
        Assert.Equal("INTERNAL_ERROR", info.Reason);
        Assert.Matches("^[0-9a-f]{32}$", info.Metadata["traceId"]);
        Assert.Contains(info.Metadata["traceId"], ex.Status.Detail);
    }

    [Fact]
    public async Task Interceptor_ServerStreamingFailsAfterFirstMessage_ClientGetsMessageThenStatus()
    {
        var client = new DiffusionService.DiffusionServiceClient(_channel);
        using var call = client.GenerateImage(new GenerateImageRequest { Prompt = "a cat" });

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        var status = ex.GetRpcStatus()!;
        Assert.Equal("MODEL_NOT_READY", status.GetDetail<ErrorInfo>().Reason);
        Assert.NotNull(status.GetDetail<RetryInfo>());
    }

    private async Task<EmbedTextsResponse> EmbedTexts(string text) =>
        await new ClipService.ClipServiceClient(_channel)
            .EmbedTextsAsync(new EmbedTextsRequest { Texts = { text } }).ResponseAsync.DefaultTimeout();

    private static async Task<HealthCheckResponse.Types.ServingStatus> Check(Health.HealthClient health, string service) =>
        (await health.CheckAsync(new HealthCheckRequest { Service = service }).ResponseAsync.DefaultTimeout()).Status;

    private async Task<HttpStatusCode> GetHealthz()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_address, ServiceDefaults.HealthzPath))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await http.SendAsync(request).DefaultTimeout();
        return response.StatusCode;
    }

    private sealed class FailingClipService : ClipService.ClipServiceBase
    {
        public override Task<EmbedTextsResponse> EmbedTexts(EmbedTextsRequest request, ServerCallContext context)
        {
            if (request.Texts[0] == "bad")
            {
                throw InferenceException.InvalidArgument("texts[0]", "is bad");
            }
            if (request.Texts[0] == "rejected")
            {
                throw new InputRejectedException(InputRejection.PromptTooLong, "too many tokens").WithField("texts[0]");
            }
            throw new InvalidOperationException("secret internal detail");
        }
    }

    private sealed class FailingDiffusionService : DiffusionService.DiffusionServiceBase
    {
        public override async Task GenerateImage(
            GenerateImageRequest request, IServerStreamWriter<GenerateImageResponse> responseStream, ServerCallContext context)
        {
            await responseStream.WriteAsync(new GenerateImageResponse());
            throw InferenceException.ModelNotReady();
        }
    }
}
