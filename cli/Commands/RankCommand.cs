using System.CommandLine;
using MultiModal.Cli.Errors;
using MultiModal.Cli.Images;
using MultiModal.Contracts.Clip.V1;
using Spectre.Console;

namespace MultiModal.Cli.Commands;

/// <summary>
/// <c>mm rank QUERY CANDIDATE…</c>: candidates by similarity to the query, best first. An argument that names an
/// existing image file (.png .jpg .jpeg .webp .bmp .gif) is sent as that image, any other as text.
/// </summary>
internal static class RankCommand
{
    public static void AddRankCommand(this RootCommand root)
    {
        var query = new Argument<string>("query") { Description = "Query: a text or an image file" };
        var candidates = new Argument<string[]>("candidate") { Description = "Candidates: texts or image files", Arity = ArgumentArity.OneOrMore };
        var topK = new Option<uint>("--top-k", "-k") { HelpName = "K", Description = "Show only the best K (0: all)" };
        var command = new Command("rank", "Rank texts or images by CLIP similarity to a text or image query") { query, candidates, topK };
        command.SetGatewayAction(async (parsed, gateway, cancellationToken) =>
        {
            var items = parsed.GetValue(candidates)!;
            var request = new RankRequest { Query = await ItemAsync(parsed.GetValue(query)!, cancellationToken), TopK = parsed.GetValue(topK) };
            foreach (var item in items)
                request.Candidates.Add(await ItemAsync(item, cancellationToken));
            var response = await new ClipService.ClipServiceClient(gateway.Channel)
                .RankAsync(request, gateway.Headers, cancellationToken: cancellationToken);
            var table = Tables.Create("#", "candidate", "cosine", "probability");
            var rank = 0;
            foreach (var ranked in response.Ranked)
                table.AddRow((++rank).ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(items[ranked.Index]),
                    Tables.Number(ranked.Cosine), Tables.Probability(ranked.Probability));
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        root.Subcommands.Add(command);
    }

    private static async Task<RankItem> ItemAsync(string argument, CancellationToken cancellationToken) =>
        ImageFiles.IsImagePath(argument)
            ? new RankItem { Image = await ImageFiles.ReadAsync(argument, cancellationToken) }
            : new RankItem { Text = argument };
}
