using System.CommandLine;
using Grpc.Core;
using Grpc.Health.V1;
using MultiModal.Cli.Errors;
using Spectre.Console;

namespace MultiModal.Cli.Commands;

/// <summary>
/// <c>mm health</c>: the gateway's grpc.health.v1 for itself and each routed service. Exit 0 when all are SERVING,
/// else <see cref="ExitCodes.Unavailable"/>.
/// </summary>
internal static class HealthCommand
{
    private static readonly (string Name, string Service)[] Checks =
    [
        ("gateway", ""),
        ("clip", "multimodal.clip.v1.ClipService"),
        ("vision", "multimodal.vision.v1.VisionService"),
        ("diffusion", "multimodal.diffusion.v1.DiffusionService"),
    ];

    public static void AddHealthCommand(this RootCommand root)
    {
        var command = new Command("health", "Whether the gateway and each service behind it is serving (grpc.health.v1)");
        command.SetGatewayAction(async (parsed, gateway, cancellationToken) =>
        {
            var client = new Health.HealthClient(gateway.Channel);
            var options = new CallOptions(gateway.Headers, DateTime.UtcNow.AddSeconds(10), cancellationToken);
            var results = await Task.WhenAll(Checks.Select(async check =>
            {
                try
                {
                    var response = await client.CheckAsync(new HealthCheckRequest { Service = check.Service }, options);
                    return (check.Name, Status: ErrorLine.ConstantCase(response.Status.ToString()),
                        Serving: response.Status == HealthCheckResponse.Types.ServingStatus.Serving, Unreachable: (string?)null);
                }
                catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
                {
                    var line = ErrorLine.From(ex, gateway.Address);
                    return (check.Name, Status: line["mm: ".Length..], Serving: false, Unreachable: ErrorLine.IsUnreachable(ex) ? line : null);
                }
            }));
            // Unreachable gateway: one line, as for every other command, rather than four failed rows.
            if (results.All(r => r.Unreachable is not null))
            {
                await Console.Error.WriteLineAsync(results[0].Unreachable);
                return ExitCodes.Unavailable;
            }
            var table = Tables.Create("service", "status");
            foreach (var (name, status, serving, _) in results)
                table.AddRow(name, serving ? $"[green]{status}[/]" : $"[red]{Markup.Escape(status)}[/]");
            AnsiConsole.Write(table);
            return results.All(r => r.Serving) ? ExitCodes.Ok : ExitCodes.Unavailable;
        });
        root.Subcommands.Add(command);
    }
}
