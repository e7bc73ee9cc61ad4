using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace MultiModal.Telemetry;

/// <summary>The console log format of every process of the fleet (the services and the gateway).</summary>
public static class FleetConsoleLogging
{
    /// <summary>
    /// One line per event: readable in a terminal by default, and with <c>Logging:Format=json</c> one JSON object per
    /// line (UTC timestamps, scopes) for log collectors.
    /// </summary>
    public static WebApplicationBuilder AddFleetConsoleLogging(this WebApplicationBuilder builder)
    {
        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }
        return builder;
    }
}
