using Google.Protobuf.Reflection;
using Grpc.Reflection;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Contracts.Vision.V1;

namespace MultiModal.Gateway.Reflection;

/// <summary>
/// <c>grpc.reflection.v1</c> and <c>v1alpha</c> for the whole fleet at the gateway, built from the Contracts
/// project's descriptors (the same .proto files the services compile), so <c>grpcurl -plaintext 127.0.0.1:8080
/// list|describe</c> works without reaching a backend. Lists the routed model services, grpc.health.v1 and reflection.
/// </summary>
public static class GatewayReflection
{
    /// <summary>The files whose services the gateway routes (their imports are resolved by the registry).</summary>
    private static readonly FileDescriptor[] ServiceFiles =
    [
        ClipServiceReflection.Descriptor,
        VisionServiceReflection.Descriptor,
        DiffusionServiceReflection.Descriptor,
        Grpc.Health.V1.HealthReflection.Descriptor,
        Grpc.Reflection.V1.ReflectionReflection.Descriptor,
        Grpc.Reflection.V1Alpha.ReflectionReflection.Descriptor,
    ];

    /// <summary>Full names of every service listed, e.g. <c>multimodal.clip.v1.ClipService</c>.</summary>
    public static IReadOnlyList<string> ServiceNames { get; } =
        ServiceFiles.SelectMany(f => f.Services).Select(s => s.FullName).ToArray();

    public static IServiceCollection AddGatewayReflection(this IServiceCollection services)
    {
        var registry = SymbolRegistry.FromFiles(ServiceFiles);
        services.AddSingleton(new ReflectionServiceImpl(ServiceNames, registry));
        services.AddSingleton(new ReflectionV1ServiceImpl(ServiceNames, registry));
        return services;
    }

    public static IEndpointRouteBuilder MapGatewayReflection(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<ReflectionServiceImpl>();
        endpoints.MapGrpcService<ReflectionV1ServiceImpl>();
        return endpoints;
    }
}
