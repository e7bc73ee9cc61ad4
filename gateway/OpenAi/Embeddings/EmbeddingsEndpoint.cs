using System.Runtime.InteropServices;
using System.Text.Json;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Gateway.OpenAi.Errors;
using MultiModal.Gateway.OpenAi.Http;
using MultiModal.Gateway.OpenAi.ImageFetch;
using MultiModal.Gateway.OpenAi.Models;
using MultiModal.Gateway.OpenAi.Upstreams;
using static MultiModal.Gateway.OpenAi.Http.RequestJson;

namespace MultiModal.Gateway.OpenAi.Embeddings;

/// <summary>
/// <c>POST /v1/embeddings</c> → ClipService.EmbedTexts (and EmbedImages for our <c>input_images</c> extension: data or
/// allow-listed http(s) URLs, embedded after the texts, indexes continuing). Vectors are L2-normalised, as OpenAI's are;
/// <c>encoding_format</c> <c>float</c> or <c>base64</c> (little-endian float32, what the Python SDK asks for by default);
/// <c>dimensions</c> other than the model's is a 400; <c>usage.prompt_tokens</c> is the CLIP tokenizer's count.
/// </summary>
public static class EmbeddingsEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context, ModelCatalog catalog, ImageInputs imageInputs, FleetChannels fleet)
    {
        var aborted = context.RequestAborted;
        var body = await ReadObjectAsync(context.Request, aborted);
        var requested = RequiredString(body, "model");
        var texts = Texts(body);
        var imageUrls = ImageUrls(body);
        if (texts.Count == 0 && imageUrls.Count == 0)
            throw OpenAiException.Invalid("input", "'input' must not be empty.");
        var format = String(body, "encoding_format") ?? "float";
        if (format is not ("float" or "base64"))
            throw OpenAiException.Invalid("encoding_format", $"'encoding_format' must be 'float' or 'base64'; got '{format}'.");
        var dimensions = Integer(body, "dimensions");

        var model = await catalog.ResolveAsync(requested, ModelCatalog.Clip, aborted);
        var images = new List<Contracts.Common.V1.Image>();
        for (var i = 0; i < imageUrls.Count; i++)
            images.Add(await imageInputs.LoadAsync(imageUrls[i], $"input_images[{i}]", aborted));

        var vectors = new List<float[]>();
        uint tokens = 0;
        try
        {
            if (texts.Count > 0)
            {
                var r = await fleet.UnaryAsync(ModelCatalog.Clip, invoker => new ClipService.ClipServiceClient(invoker)
                    .EmbedTextsAsync(new EmbedTextsRequest { Texts = { texts }, Normalize = true }, cancellationToken: aborted).ResponseAsync);
                vectors.AddRange(r.Embeddings.Select(e => e.Values.ToArray()));
                tokens = (uint)r.TokenCounts.Sum(c => (long)c);
            }
            if (images.Count > 0)
            {
                var r = await fleet.UnaryAsync(ModelCatalog.Clip, invoker => new ClipService.ClipServiceClient(invoker)
                    .EmbedImagesAsync(new EmbedImagesRequest { Images = { images }, Normalize = true }, cancellationToken: aborted).ResponseAsync);
                vectors.AddRange(r.Embeddings.Select(e => e.Values.ToArray()));
            }
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !aborted.IsCancellationRequested)
        {
            throw RpcErrorMapper.Map(e, field => field.StartsWith("images", StringComparison.Ordinal) ? "input_images" : "input");
        }

        if (dimensions is { } d && vectors.Count > 0 && d != vectors[0].Length)
            throw OpenAiException.Invalid("dimensions", $"'{model.Id}' makes {vectors[0].Length}-dimensional embeddings; 'dimensions' {d} is not supported.", "unsupported_value");

        var data = vectors.Select((v, index) => new
        {
            @object = "embedding",
            index,
            embedding = format == "base64" ? Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan())) : (object)v,
        });
        return Results.Json(new
        {
            @object = "list",
            data,
            model = model.Id,
            usage = new { prompt_tokens = tokens, total_tokens = tokens },
        }, OpenAiJson.Options);
    }

    private static List<string> Texts(JsonElement body) => Get(body, "input") switch
    {
        null when Get(body, "input_images") is not null => [],
        null => throw OpenAiException.Invalid("input", "'input' is required.", "missing_required_parameter"),
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
            => [.. a.EnumerateArray().Select(e => e.GetString()!)],
        { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().Any(e => e.ValueKind is JsonValueKind.Number or JsonValueKind.Array)
            => throw OpenAiException.Invalid("input",
                "Token-id input is not supported: this model has its own tokenizer (CLIP BPE, not tiktoken). Send the text as strings.", "unsupported_value"),
        _ => throw WrongType("input", "a string or an array of strings"),
    };

    // Ours, not OpenAI's: images to embed with the same model, as data: URLs (or allow-listed http(s) URLs).
    private static List<string> ImageUrls(JsonElement body) => Get(body, "input_images") switch
    {
        null => [],
        { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
            => [.. a.EnumerateArray().Select(e => e.GetString()!)],
        _ => throw WrongType("input_images", "an array of image URLs (data: URLs)"),
    };
}
