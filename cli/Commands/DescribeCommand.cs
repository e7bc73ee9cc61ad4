using System.CommandLine;
using Grpc.Core;
using MultiModal.Cli.Errors;
using MultiModal.Cli.Images;
using MultiModal.Contracts.Vision.V1;

namespace MultiModal.Cli.Commands;

/// <summary>
/// <c>mm describe IMAGE ["prompt"]</c>: the answer printed to stdout as it streams; how it finished (reason, tokens)
/// goes to stderr.
/// </summary>
internal static class DescribeCommand
{
    public static void AddDescribeCommand(this RootCommand root)
    {
        var image = new Argument<string>("image") { Description = "Image file" };
        var prompt = new Argument<string>("prompt") { Description = "Question (server default: \"Describe this image.\")", Arity = ArgumentArity.ZeroOrOne };
        var maxTokens = new Option<uint>("--max-tokens") { HelpName = "N", Description = "Most tokens to generate (0: the server's default)" };
        var temperature = new Option<float?>("--temperature", "-t") { HelpName = "T", Description = "Sampling temperature (unset or 0: greedy)" };
        var seed = new Option<ulong?>("--seed") { HelpName = "SEED", Description = "Sampling seed" };
        var topP = new Option<float>("--top-p") { HelpName = "P", Description = "Nucleus sampling mass (0: off)" };
        var topK = new Option<uint>("--top-k") { HelpName = "K", Description = "Sample from the K likeliest tokens (0: off)" };
        var command = new Command("describe", "Ask about an image; the answer streams as it is generated") { image, prompt, maxTokens, temperature, seed, topP, topK };
        command.SetGatewayAction(async (parsed, gateway, cancellationToken) =>
        {
            var request = new DescribeStreamRequest
            {
                Images = { await ImageFiles.ReadAsync(parsed.GetValue(image)!, cancellationToken) },
                Prompt = parsed.GetValue(prompt) ?? "",
                MaxTokens = parsed.GetValue(maxTokens),
                TopP = parsed.GetValue(topP),
                TopK = parsed.GetValue(topK),
            };
            if (parsed.GetValue(temperature) is { } t)
                request.Temperature = t;
            if (parsed.GetValue(seed) is { } s)
                request.Seed = s;
            using var call = new VisionService.VisionServiceClient(gateway.Channel)
                .DescribeStream(request, gateway.Headers, cancellationToken: cancellationToken);
            var stdout = Console.Out;
            await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                await stdout.WriteAsync(message.Delta);
                await stdout.FlushAsync(cancellationToken);
                if (message.FinishReason != FinishReason.Unspecified)
                {
                    await stdout.WriteLineAsync();
                    await Console.Error.WriteLineAsync(
                        $"[finish {message.FinishReason.ToString().ToUpperInvariant()}, {message.Usage?.CompletionTokens ?? 0} tokens]");
                }
            }
            return ExitCodes.Ok;
        });
        root.Subcommands.Add(command);
    }
}
