using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Gateway.OpenAi.Errors;
using MultiModal.Gateway.OpenAi.Http;
using MultiModal.Gateway.OpenAi.Models;
using MultiModal.Gateway.OpenAi.Upstreams;

namespace MultiModal.Gateway.OpenAi.Images;

/// <summary>
/// <c>POST /v1/images/generations</c> (JSON) and <c>POST /v1/images/edits</c> (multipart, img2img) →
/// DiffusionService.GenerateImage. Without <c>stream</c>: <c>{"created", "data": [{"b64_json"}]}</c>. With it: SSE events
/// <c>image_generation.partial_image</c> (the service's approximate previews: JPEG at 1/8 of the size, decoded from the
/// predicted x0 by a linear map; <c>partial_images</c> of them evenly spaced over the steps) and one <c>image_generation.completed</c> per image, as OpenAI's image stream names them.
/// </summary>
public static class ImagesEndpoints
{
    public static async Task GenerationsAsync(HttpContext context, ModelCatalog catalog, FleetChannels fleet)
    {
        var body = await RequestJson.ReadObjectAsync(context.Request, context.RequestAborted);
        var request = ImageRequest.Parse(name => RequestJson.Get(body, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False } v => v.GetRawText(),
            _ => throw RequestJson.WrongType(name, "a string, number or boolean"),
        }, edit: false);
        await RunAsync(context, catalog, fleet, request);
    }

    public static async Task EditsAsync(HttpContext context, ModelCatalog catalog, FleetChannels fleet)
    {
        if (!context.Request.HasFormContentType)
            throw new OpenAiException(StatusCodes.Status400BadRequest, "/v1/images/edits takes multipart/form-data.", null, "invalid_content_type");
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form.Files.GetFile("mask") is not null)
            throw OpenAiException.Invalid("mask", "Masks (inpainting) are not supported; the whole image is redrawn with 'strength'.", "unsupported_value");
        var file = form.Files.GetFile("image") ?? form.Files.GetFile("image[]")
            ?? throw OpenAiException.Invalid("image", "'image' (a file) is required.", "missing_required_parameter");
        if (form.Files.Count(f => f.Name is "image" or "image[]") > 1)
            throw OpenAiException.Invalid("image", "One input image is supported.", "unsupported_value");
        var request = ImageRequest.Parse(name => form.TryGetValue(name, out var v) && v.Count > 0 ? v[0] : null, edit: true);
        await using var data = file.OpenReadStream();
        request.Grpc.InitImage = new Contracts.Common.V1.Image { Data = await ByteString.FromStreamAsync(data, context.RequestAborted), MimeType = file.ContentType ?? "" };
        await RunAsync(context, catalog, fleet, request);
    }

    private static async Task RunAsync(HttpContext context, ModelCatalog catalog, FleetChannels fleet, ImageRequest request)
    {
        var aborted = context.RequestAborted;
        if (request.Model is { } model)
            await catalog.ResolveAsync(model, ModelCatalog.Diffusion, aborted);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var call = new DiffusionService.DiffusionServiceClient(fleet.ForStream(ModelCatalog.Diffusion))
            .GenerateImage(request.Grpc, cancellationToken: aborted);

        var streaming = false;
        var sent = 0;
        try
        {
            while (await call.ResponseStream.MoveNext(aborted))
            {
                var e = call.ResponseStream.Current;
                if (request.Stream && !streaming)
                {
                    // The first event means the request was accepted: from here on, errors travel as events.
                    await ServerSentEvents.StartAsync(context.Response, aborted);
                    streaming = true;
                }
                if (request.ProgressEvents)
                    await WriteProgressAsync(context.Response, e, aborted);
                if (e.EventCase == GenerateImageResponse.EventOneofCase.Progress && e.Progress.Preview is { } preview
                    && sent < request.PartialImages && IsDue(e.Progress.Step, e.Progress.TotalSteps, sent, request.PartialImages))
                {
                    foreach (var image in preview.Images)
                        await ServerSentEvents.WriteAsync(context.Response, new
                        {
                            type = "image_generation.partial_image",
                            b64_json = image.Data.ToBase64(),
                            created_at = created,
                            size = $"{image.Width}x{image.Height}",
                            quality = "auto",
                            background = "opaque",
                            output_format = "jpeg",
                            partial_image_index = sent,
                        }, aborted, "image_generation.partial_image");
                    sent++;
                }
                if (e.EventCase == GenerateImageResponse.EventOneofCase.Result)
                {
                    await WriteResultAsync(context, request, created, e.Result, aborted);
                    return;
                }
            }
            throw new OpenAiException(StatusCodes.Status500InternalServerError, "The diffusion service ended the stream without a result.", null, "server_error");
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !aborted.IsCancellationRequested)
        {
            var error = RpcErrorMapper.Map(e, ImageRequest.Param);
            if (!streaming)
                throw error;
            await ServerSentEvents.WriteAsync(context.Response, new { type = "error", error = OpenAiErrorWriter.Error(error) }, aborted, "error");
        }
    }

    // Our extension (request field "progress"): queue position and wait, then step, elapsed and ETA, as the gRPC stream
    // has them. The "x." prefix keeps them apart from OpenAI's event names; OpenAI's SDKs pass unknown events through.
    private static Task WriteProgressAsync(HttpResponse response, GenerateImageResponse e, CancellationToken aborted) => e.EventCase switch
    {
        GenerateImageResponse.EventOneofCase.Queued => ServerSentEvents.WriteAsync(response, new
        {
            type = "x.image_generation.queued",
            position = e.Queued.Position,
            estimated_wait_seconds = e.Queued.EstimatedWait?.ToTimeSpan().TotalSeconds,
        }, aborted, "x.image_generation.queued"),
        GenerateImageResponse.EventOneofCase.Progress => ServerSentEvents.WriteAsync(response, new
        {
            type = "x.image_generation.progress",
            step = e.Progress.Step,
            total_steps = e.Progress.TotalSteps,
            elapsed_seconds = e.Progress.Elapsed?.ToTimeSpan().TotalSeconds,
            eta_seconds = e.Progress.Eta?.ToTimeSpan().TotalSeconds,
        }, aborted, "x.image_generation.progress"),
        _ => Task.CompletedTask,
    };

    // Partial j (0-based) of k is due at the first step at or after (j + 1) / (k + 1) of the way.
    private static bool IsDue(uint step, uint total, int sent, int k) => step * (ulong)(k + 1) >= (ulong)(sent + 1) * total;

    private static async Task WriteResultAsync(HttpContext context, ImageRequest request, long created, Result result, CancellationToken aborted)
    {
        var size = result.Images.Count > 0 ? $"{result.Images[0].Width}x{result.Images[0].Height}" : "";
        if (!request.Stream)
        {
            await context.Response.WriteAsJsonAsync(new
            {
                created,
                data = result.Images.Select((image, i) => new { b64_json = image.Data.ToBase64(), revised_prompt = (string?)null, seed = result.Seeds[i] }),
                background = "opaque",
                output_format = request.OutputFormat,
                quality = "auto",
                size,
            }, OpenAiJson.Options, aborted);
            return;
        }
        for (var i = 0; i < result.Images.Count; i++)
            await ServerSentEvents.WriteAsync(context.Response, new
            {
                type = "image_generation.completed",
                b64_json = result.Images[i].Data.ToBase64(),
                seed = result.Seeds[i],   // ours, as in the non-streamed answer's data[].seed
                created_at = created,
                size,
                quality = "auto",
                background = "opaque",
                output_format = request.OutputFormat,
                // No usage: the diffusion service reports no token counts, and zeros would be a made-up number.
            }, aborted, "image_generation.completed");
    }
}
