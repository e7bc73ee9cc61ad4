using Grpc.Core;
using Grpc.Health.V1;
using MultiModal.Tests.Testing;
using Xunit;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace MultiModal.Tests.Integration.Gateway.FrontDoor;

/// <summary>
/// Reflection (v1 and v1alpha) and grpc.health.v1 answered by the gateway for the whole fleet, without an API key
/// although keys are on (so probes and <c>grpcurl list</c> work).
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class ReflectionAndHealthTests(FrontDoorFixture fixture)
{
    private static readonly string[] ModelServices =
        ["multimodal.clip.v1.ClipService", "multimodal.vision.v1.VisionService", "multimodal.diffusion.v1.DiffusionService"];

    private readonly Health.HealthClient _health = new(fixture.Channel);

    [Fact]
    public async Task ReflectionV1_NoKey_ListsEveryModelServiceAndResolvesEachOnesFile()
    {
        using var call = new V1.ServerReflection.ServerReflectionClient(fixture.Channel).ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { ListServices = "" }).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var listed = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var service in ModelServices)
        {
            await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { FileContainingSymbol = service }).DefaultTimeout();
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
            var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
                .Select(b => Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(b)).ToList();
            Assert.Contains(files, f => f.Service.Any(s => $"{f.Package}.{s.Name}" == service));
        }
        await call.RequestStream.CompleteAsync().DefaultTimeout();

        Assert.Superset(ModelServices.Append("grpc.health.v1.Health").ToHashSet(), listed.ToHashSet());
    }

    [Fact]
    public async Task ReflectionV1Alpha_NoKey_ListsEveryModelServiceAndResolvesEachOnesFile()
    {
        using var call = new V1Alpha.ServerReflection.ServerReflectionClient(fixture.Channel).ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { ListServices = "" }).DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        var listed = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var service in ModelServices)
        {
            await call.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { FileContainingSymbol = service }).DefaultTimeout();
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
            var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
                .Select(b => Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(b)).ToList();
            Assert.Contains(files, f => f.Service.Any(s => $"{f.Package}.{s.Name}" == service));
        }
        await call.RequestStream.CompleteAsync().DefaultTimeout();

        Assert.Superset(ModelServices.ToHashSet(), listed.ToHashSet());
    }

    [Fact]
    public async Task HealthCheck_ClipAndDiffusionWithAHealthyReplica_Serving()
    {
        foreach (var service in new[] { "multimodal.clip.v1.ClipService", "multimodal.diffusion.v1.DiffusionService" })
        {
            var response = await _health.CheckAsync(new HealthCheckRequest { Service = service }).ResponseAsync.DefaultTimeout();
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
        }
    }

    [Fact]
    public async Task HealthCheck_VisionsLastHealthyReplicaStops_NotServingWhileTheGatewayItselfStaysServing()
    {
        const string vision = "multimodal.vision.v1.VisionService";
        // One replica healthy, the other (a closed port) down from the start: SERVING.
        await WaitForStatusAsync(vision, HealthCheckResponse.Types.ServingStatus.Serving);

        await fixture.Vision.DisposeAsync();

        await WaitForStatusAsync(vision, HealthCheckResponse.Types.ServingStatus.NotServing);
        foreach (var processEntry in new[] { "", "liveness", "readiness" })
        {
            var response = await _health.CheckAsync(new HealthCheckRequest { Service = processEntry }).ResponseAsync.DefaultTimeout();
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
        }
    }

    // Active probes run every 200 ms and mark a destination after two failures: bounded poll on the gateway's answer.
    private async Task WaitForStatusAsync(string service, HealthCheckResponse.Types.ServingStatus expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HealthCheckResponse.Types.ServingStatus status;
        while ((status = (await _health.CheckAsync(new HealthCheckRequest { Service = service }).ResponseAsync.DefaultTimeout()).Status) != expected
               && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(expected, status);
    }
}
