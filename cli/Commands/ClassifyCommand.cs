using System.CommandLine;
using MultiModal.Cli.Errors;
using MultiModal.Cli.Images;
using MultiModal.Contracts.Clip.V1;
using Spectre.Console;

namespace MultiModal.Cli.Commands;

/// <summary><c>mm classify IMAGE label…</c>: zero-shot classification as a table, most probable label first.</summary>
internal static class ClassifyCommand
{
    public static void AddClassifyCommand(this RootCommand root)
    {
        var image = new Argument<string>("image") { Description = "Image file" };
        var labels = new Argument<string[]>("label") { Description = "Labels to score", Arity = ArgumentArity.OneOrMore };
        var template = new Option<string>("--template") { HelpName = "TEXT", Description = "Prompt template with {} for the label (server default: \"a photo of a {}\")" };
        var command = new Command("classify", "Zero-shot classification of an image against labels (CLIP)") { image, labels, template };
        command.SetGatewayAction(async (parsed, gateway, cancellationToken) =>
        {
            var request = new ClassifyRequest
            {
                Image = await ImageFiles.ReadAsync(parsed.GetValue(image)!, cancellationToken),
                Labels = { parsed.GetValue(labels)! },
                Template = parsed.GetValue(template) ?? "",
            };
            var response = await new ClipService.ClipServiceClient(gateway.Channel)
                .ClassifyAsync(request, gateway.Headers, cancellationToken: cancellationToken);
            var table = Tables.Create("label", "probability", "logit");
            foreach (var score in response.Scores.OrderByDescending(s => s.Probability))
                table.AddRow(Markup.Escape(score.Label), Tables.Probability(score.Probability), Tables.Number(score.Logit));
            AnsiConsole.Write(table);
            return ExitCodes.Ok;
        });
        root.Subcommands.Add(command);
    }
}
