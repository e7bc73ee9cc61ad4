using Microsoft.Extensions.Options;
using MultiModal.Gateway.ApiKeys;
using MultiModal.Gateway.RateLimits;

namespace MultiModal.Gateway.FrontDoor;

/// <summary>Registers and places the front door (keys, limits, request size) ahead of the proxy.</summary>
public static class FrontDoorExtensions
{
    public static WebApplicationBuilder AddFrontDoor(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FrontDoorOptions>().BindConfiguration(GatewayOptions.SectionName)
            .Validate(o => o.MaxRequestBodyBytes > 0, "Gateway:MaxRequestBodyBytes must be > 0.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<KeyRateLimiters>();
        builder.Services.AddSingleton<MethodWeights>();
        builder.Services.AddSingleton<FrontDoorMetrics>();
        return builder;
    }

    /// <summary>Must come before the proxy's endpoints run; loads the keys now, so a bad keys file stops start-up.</summary>
    public static WebApplication UseFrontDoor(this WebApplication app)
    {
        var keys = app.Services.GetRequiredService<ApiKeyStore>();
        _ = app.Services.GetRequiredService<MethodWeights>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("MultiModal.Gateway.FrontDoor");
        GatewayLog.FrontDoorConfigured(logger, keys.Enabled ? $"required ({keys.Keys.Count} keys)" : "off",
            app.Services.GetRequiredService<IOptions<FrontDoorOptions>>().Value.MaxRequestBodyBytes);
        app.UseMiddleware<FrontDoorMiddleware>();
        return app;
    }
}
