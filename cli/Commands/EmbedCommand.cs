using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using MultiModal.Cli.Errors;
using MultiModal.Cli.Images;
using MultiModal.Contracts.Clip.V1;

namespace MultiModal.Cli.Commands;

/// <summary><c>mm embed "text" … | --image FILE …</c>: CLIP embeddings as JSON lines, one per input, in order.</summary>
internal static class EmbedCommand
{
    public static void AddEmbedCommand(this RootCommand root)
    {
        var texts = new Argument<string[]>("text") { Description = "Texts to embed", Arity = ArgumentArity.ZeroOrMore };
        var images = new Option<string[]>("--image", "-i") { HelpName = "FILE", Description = "Image files to embed (repeatable)", AllowMultipleArgumentsPerToken = true };
        var normalize = new Option<bool>("--normalize") { Description = "Unit-length embeddings (cosine = dot product)" };
        var command = new Command("embed", "CLIP embeddings of texts or images, one JSON object per line") { texts, images, normalize };
        command.SetGatewayAction(async (parsed, gateway, cancellationToken) =>
        {
            var textList = parsed.GetValue(texts) ?? [];
            var imageList = parsed.GetValue(images) ?? [];
            if (textList.Length == 0 && imageList.Length == 0)
                throw new CliInputException("embed needs texts or --image FILE");
            var clip = new ClipService.ClipServiceClient(gateway.Channel);
            var output = Console.OpenStandardOutput();
            if (textList.Length > 0)
            {
                var response = await clip.EmbedTextsAsync(new EmbedTextsRequest { Texts = { textList }, Normalize = parsed.GetValue(normalize) },
                    gateway.Headers, cancellationToken: cancellationToken);
                for (var i = 0; i < textList.Length; i++)
                    WriteLine(output, w =>
                    {
                        w.WriteString("text", textList[i]);
                        w.WriteNumber("tokens", response.TokenCounts.ElementAtOrDefault(i));
                        w.WriteBoolean("truncated", response.Truncated.ElementAtOrDefault(i));
                    }, response.Embeddings[i]);
            }
            if (imageList.Length > 0)
            {
                var request = new EmbedImagesRequest { Normalize = parsed.GetValue(normalize) };
                foreach (var path in imageList)
                    request.Images.Add(await ImageFiles.ReadAsync(path, cancellationToken));
                var response = await clip.EmbedImagesAsync(request, gateway.Headers, cancellationToken: cancellationToken);
                for (var i = 0; i < imageList.Length; i++)
                    WriteLine(output, w => w.WriteString("image", imageList[i]), response.Embeddings[i]);
            }
            return ExitCodes.Ok;
        });
        root.Subcommands.Add(command);
    }

    // Texts as written (UTF-8), not \uXXXX: the lines are read by people too.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void WriteLine(Stream output, Action<Utf8JsonWriter> fields, Embedding embedding)
    {
        using (var writer = new Utf8JsonWriter(output, Options))
        {
            writer.WriteStartObject();
            fields(writer);
            writer.WriteStartArray("embedding");
            foreach (var value in embedding.Values)
                writer.WriteNumberValue(value);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        output.WriteByte((byte)'\n');
        output.Flush();
    }
}
