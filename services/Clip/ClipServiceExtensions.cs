using MultiModal.Core.Hosting;

namespace MultiModal.Clip;

public static class ClipServiceExtensions
{
    /// <summary>Options (validated at start), the runner that loads the model before Kestrel listens, the gRPC service.</summary>
    public static WebApplicationBuilder AddClipService(this WebApplicationBuilder builder)
    {
        builder.AddGrpcServiceDefaults("clip", ClipOptions.Section);
        builder.Services.AddOptions<ClipOptions>().BindConfiguration(ClipOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ClipRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClipRunner>());
        return builder;
    }

    public static WebApplication MapClipService(this WebApplication app)
    {
        app.MapGrpcServiceDefaults();
        app.MapGrpcService<ClipGrpcService>();
        return app;
    }
}
