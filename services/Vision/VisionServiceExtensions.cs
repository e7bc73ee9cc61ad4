using MultiModal.Core.Hosting;

namespace MultiModal.Vision;

public static class VisionServiceExtensions
{
    /// <summary>Options (validated at start), the runner that creates the backend before Kestrel listens, the gRPC service.</summary>
    public static WebApplicationBuilder AddVisionService(this WebApplicationBuilder builder)
    {
        builder.AddGrpcServiceDefaults("vision", VisionOptions.Section);
        builder.Services.AddOptions<VisionOptions>().BindConfiguration(VisionOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.IsOpenAi || !string.IsNullOrWhiteSpace(o.ModelPath), "Vision:ModelPath is required for the local backend.")
            .Validate(o => o.DefaultMaxTokens <= o.MaxNewTokens, "Vision:DefaultMaxTokens must not exceed Vision:MaxNewTokens.")
            .Validate(o => !o.IsOpenAi || Uri.TryCreate(o.OpenAI.BaseUrl, UriKind.Absolute, out _), "Vision:OpenAI:BaseUrl must be an absolute URL.")
            .Validate(o => o.OpenAI.TimeoutSeconds is >= 1 and <= 3600, "Vision:OpenAI:TimeoutSeconds must be in [1, 3600].")
            .Validate(o => o.OpenAI.MaxTokensField is VisionOpenAiOptions.MaxTokens or VisionOpenAiOptions.MaxCompletionTokens,
                "Vision:OpenAI:MaxTokensField must be max_tokens or max_completion_tokens.")
            .ValidateOnStart();
        builder.Services.AddSingleton<VisionRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<VisionRunner>());
        return builder;
    }

    public static WebApplication MapVisionService(this WebApplication app)
    {
        app.MapGrpcServiceDefaults();
        app.MapGrpcService<VisionGrpcService>();
        return app;
    }
}
