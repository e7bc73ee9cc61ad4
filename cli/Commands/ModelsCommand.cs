using System.CommandLine;
using Grpc.Core;
using MultiModal.Cli.Errors;
using MultiModal.Cli.Gateway;
using MultiModal.Contracts.Common.V1;
using MultiModal.Cli.Generate;
using Spectre.Console;
using Clip = MultiModal.Contracts.Clip.V1;
using Diffusion = MultiModal.Contracts.Diffusion.V1;
using Vision = MultiModal.Contracts.Vision.V1;

namespace MultiModal.Cli.Commands;

/// <summary>
/// <c>mm models</c>: every service's GetModelInfo through the gateway as one table. A service that fails shows its
/// error in its row; the exit code is that of the first failure (0 when all answered).
/// </summary>
internal static class ModelsCommand
{
    public static void AddModelsCommand(this RootCommand root)
    {
        var command = new Command("models", "What each service serves (GetModelInfo of CLIP, Vision, Diffusion)");
        command.SetGatewayAction(async (parsed, gateway, cancellationToken) =>
        {
            var options = new CallOptions(gateway.Headers, DateTime.UtcNow.AddSeconds(30), cancellationToken);
            var rows = await Task.WhenAll(
                RowAsync("clip", gateway, async () => Clip(await new Clip.ClipService.ClipServiceClient(gateway.Channel)
                    .GetModelInfoAsync(new Clip.GetModelInfoRequest(), options))),
                RowAsync("vision", gateway, async () => Vision(await new Vision.VisionService.VisionServiceClient(gateway.Channel)
                    .GetModelInfoAsync(new Vision.GetModelInfoRequest(), options))),
                RowAsync("diffusion", gateway, async () => Diffusion(await new Diffusion.DiffusionService.DiffusionServiceClient(gateway.Channel)
                    .GetModelInfoAsync(new Diffusion.GetModelInfoRequest(), options))));
            // Unreachable gateway: one line, as for every other command, rather than three failed rows.
            if (rows.All(r => r.Unreachable is not null))
            {
                await Console.Error.WriteLineAsync(rows[0].Unreachable);
                return ExitCodes.Unavailable;
            }
            var table = Tables.Create("service", "model", "device", "details", "served");
            foreach (var row in rows)
                table.AddRow(row.Cells);
            AnsiConsole.Write(table);
            return rows.Select(r => r.ExitCode).FirstOrDefault(code => code != ExitCodes.Ok, ExitCodes.Ok);
        });
        root.Subcommands.Add(command);
    }

    /// <summary>A table row; <paramref name="Unreachable"/> is the error line when the gateway itself could not be reached.</summary>
    private sealed record Row(string[] Cells, int ExitCode, string? Unreachable = null);

    private static async Task<Row> RowAsync(string service, GatewayConnection gateway, Func<Task<string[]>> info)
    {
        try
        {
            return new Row([service, .. await info()], ExitCodes.Ok);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
        {
            var line = ErrorLine.From(ex, gateway.Address);
            return new Row([service, $"[red]{Markup.Escape(line["mm: ".Length..])}[/]", "", "", ""], ExitCodes.For(ex.StatusCode),
                ErrorLine.IsUnreachable(ex) ? line : null);
        }
    }

    private static string[] Clip(Clip.GetModelInfoResponse r) =>
    [
        Markup.Escape(r.ModelName), $"{r.Device} {r.Dtype}",
        $"embedding {r.EmbeddingSize}, image {r.ImageSize}px, context {r.ContextLength}, batch ≤ {r.MaxBatchSize}",
        Served(r.Stats),
    ];

    private static string[] Vision(Vision.GetModelInfoResponse r) =>
    [
        Markup.Escape($"{r.ModelName} ({r.Backend})"), $"{r.Device} {r.Dtype}",
        $"context {r.ContextLength}, ≤ {r.MaxImages} images, ≤ {r.MaxNewTokens} new tokens",
        Served(r.Stats),
    ];

    private static string[] Diffusion(Diffusion.GetModelInfoResponse r) =>
    [
        Markup.Escape(r.ModelName), $"{r.Device} {r.Dtype}",
        $"{r.NativeWidth}x{r.NativeHeight}, {Schedulers.Name(r.DefaultScheduler)}, {r.PredictionType}, ≤ {r.MaxSteps} steps",
        $"{Served(r.Stats)}, {r.JobsCancelled} cancelled",
    ];

    private static string Served(ServingStats? stats) =>
        stats is null ? "" : $"{stats.RequestsAccepted} accepted, {stats.RequestsRejected} rejected, queue {stats.QueueDepth}";
}
