using MultiModal.Core.Hosting;

namespace MultiModal.Diffusion;

public static class DiffusionServiceExtensions
{
    /// <summary>Options (validated at start), the runner that loads the pipeline before Kestrel listens, the gRPC service.</summary>
    public static WebApplicationBuilder AddDiffusionService(this WebApplicationBuilder builder)
    {
        builder.AddGrpcServiceDefaults("diffusion", DiffusionOptions.Section);
        builder.Services.AddOptions<DiffusionOptions>().BindConfiguration(DiffusionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<DiffusionRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DiffusionRunner>());
        return builder;
    }

    public static WebApplication MapDiffusionService(this WebApplication app)
    {
        app.MapGrpcServiceDefaults();
        app.MapGrpcService<DiffusionGrpcService>();
        return app;
    }
}
