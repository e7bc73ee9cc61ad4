using System.Text.Json;
using Grpc.Core;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Gateway.OpenAi.Errors;
using MultiModal.Gateway.OpenAi.ImageFetch;
using MultiModal.Gateway.OpenAi.Models;
using MultiModal.Gateway.OpenAi.Upstreams;
using static MultiModal.Gateway.OpenAi.Http.RequestJson;

namespace MultiModal.Gateway.OpenAi.Classify;

/// <summary>
/// <c>POST /v1/x/classify</c>, our extension (OpenAI has no zero-shot endpoint; <c>/v1/x/</c> marks what is ours) →
/// ClipService.Classify. Body: <c>{"image": "data:…" | "https://…", "labels": ["a cat", …], "template"?, "model"?}</c>;
/// answer: <c>{"object": "classification", "model", "data": [{"label", "probability", "logit"}]}</c> in the order of
/// <c>labels</c>. Computing this from <c>/v1/embeddings</c> would need CLIP's logit scale, which only the model knows.
/// </summary>
public static class ClassifyEndpoint
{
    public static async Task<IResult> HandleAsync(HttpContext context, ModelCatalog catalog, ImageInputs imageInputs, FleetChannels fleet)
    {
        var aborted = context.RequestAborted;
        var body = await ReadObjectAsync(context.Request, aborted);
        var imageUrl = RequiredString(body, "image");
        var labels = Labels(body);
        var template = String(body, "template") ?? "";
        // Optional: the service serves one model; a name given must be it (or an alias of it).
        var model = String(body, "model") is { } requested ? (await catalog.ResolveAsync(requested, ModelCatalog.Clip, aborted)).Id : null;
        var image = await imageInputs.LoadAsync(imageUrl, "image", aborted);

        ClassifyResponse response;
        try
        {
            response = await fleet.UnaryAsync(ModelCatalog.Clip, invoker => new ClipService.ClipServiceClient(invoker)
                .ClassifyAsync(new ClassifyRequest { Image = image, Labels = { labels }, Template = template }, cancellationToken: aborted).ResponseAsync);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !aborted.IsCancellationRequested)
        {
            throw RpcErrorMapper.Map(e, field => field.StartsWith("image", StringComparison.Ordinal) ? "image" : field);   // image.data → image
        }
        return Results.Json(new
        {
            @object = "classification",
            model,
            data = response.Scores.Select(s => new { label = s.Label, probability = s.Probability, logit = s.Logit }),
        }, OpenAiJson.Options);
    }

    private static List<string> Labels(JsonElement body)
    {
        if (Get(body, "labels") is not { ValueKind: JsonValueKind.Array } array)
            throw OpenAiException.Invalid("labels", "'labels' (an array of strings) is required.", "missing_required_parameter");
        var labels = new List<string>();
        foreach (var item in array.EnumerateArray())
            labels.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw WrongType($"labels[{labels.Count}]", "a string"));
        return labels.Count > 0 ? labels : throw OpenAiException.Invalid("labels", "'labels' must not be empty.");
    }
}
