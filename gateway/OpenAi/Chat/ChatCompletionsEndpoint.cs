using Grpc.Core;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Gateway.OpenAi.Errors;
using MultiModal.Gateway.OpenAi.Http;
using MultiModal.Gateway.OpenAi.ImageFetch;
using MultiModal.Gateway.OpenAi.Models;
using MultiModal.Gateway.OpenAi.Upstreams;

namespace MultiModal.Gateway.OpenAi.Chat;

/// <summary>
/// <c>POST /v1/chat/completions</c> → VisionService.Describe, or DescribeStream for <c>stream: true</c> (OpenAI's chunk
/// shape, a usage chunk when <c>stream_options.include_usage</c>, then <c>data: [DONE]</c>). Usage is the service's,
/// counted by the model's tokenizer. The request's abort token cancels the gRPC call.
/// </summary>
public static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ModelCatalog catalog, ImageInputs imageInputs, FleetChannels fleet)
    {
        var aborted = context.RequestAborted;
        var chat = ChatRequestParser.Parse(await RequestJson.ReadObjectAsync(context.Request, aborted));
        var model = await catalog.ResolveAsync(chat.Model, ModelCatalog.Vision, aborted);
        var images = new List<Contracts.Common.V1.Image>();
        foreach (var image in chat.Images)
            images.Add(await imageInputs.LoadAsync(image.Url, image.Param, aborted));

        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string Param(string field) => ChatResponses.Param(field, chat);
        if (!chat.Stream)
        {
            DescribeResponse response;
            try
            {
                response = await fleet.UnaryAsync(ModelCatalog.Vision, invoker =>
                    new VisionService.VisionServiceClient(invoker).DescribeAsync(ToDescribe(chat, images), cancellationToken: aborted).ResponseAsync);
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !aborted.IsCancellationRequested)
            {
                throw RpcErrorMapper.Map(e, Param);
            }
            await context.Response.WriteAsJsonAsync(ChatResponses.Completion(id, created, model.Id, response), OpenAiJson.Options, aborted);
            return;
        }

        var request = ToDescribe(chat, images);
        var streamRequest = new DescribeStreamRequest
        {
            Images = { request.Images }, Prompt = request.Prompt, MaxTokens = request.MaxTokens, TopP = request.TopP, Stop = { request.Stop },
            History = { request.History }, System = request.System,
        };
        if (request.HasTemperature) streamRequest.Temperature = request.Temperature;
        if (request.HasSeed) streamRequest.Seed = request.Seed;

        using var call = new VisionService.VisionServiceClient(fleet.ForStream(ModelCatalog.Vision))
            .DescribeStream(streamRequest, cancellationToken: aborted);
        // The first message decides between an HTTP error (the service refused the request) and a stream.
        bool any;
        try
        {
            any = await call.ResponseStream.MoveNext(aborted);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !aborted.IsCancellationRequested)
        {
            throw RpcErrorMapper.Map(e, Param);
        }
        await ServerSentEvents.StartAsync(context.Response, aborted);
        await ServerSentEvents.WriteAsync(context.Response, ChatResponses.RoleChunk(id, created, model.Id, chat.IncludeUsage), aborted);
        try
        {
            while (any)
            {
                var e = call.ResponseStream.Current;
                if (e.Delta.Length > 0)
                    await ServerSentEvents.WriteAsync(context.Response, ChatResponses.DeltaChunk(id, created, model.Id, e.Delta, chat.IncludeUsage), aborted);
                if (e.FinishReason != FinishReason.Unspecified)
                {
                    await ServerSentEvents.WriteAsync(context.Response, ChatResponses.FinishChunk(id, created, model.Id, e.FinishReason, chat.IncludeUsage), aborted);
                    if (chat.IncludeUsage)
                        await ServerSentEvents.WriteAsync(context.Response, ChatResponses.UsageChunk(id, created, model.Id, e.Usage), aborted);
                }
                any = await call.ResponseStream.MoveNext(aborted);
            }
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled || !aborted.IsCancellationRequested)
        {
            // Headers are gone: the error travels as one more event, as OpenAI's streams report a failure mid-way.
            var error = RpcErrorMapper.Map(e, Param);
            await ServerSentEvents.WriteAsync(context.Response, OpenAiErrorWriter.Body(error), aborted);
            return;
        }
        await ServerSentEvents.WriteDoneAsync(context.Response, aborted);
    }

    private static DescribeRequest ToDescribe(ChatRequest chat, IEnumerable<Contracts.Common.V1.Image> images)
    {
        var request = new DescribeRequest
        {
            Images = { images }, Prompt = chat.Prompt, MaxTokens = chat.MaxTokens, TopP = chat.TopP, Stop = { chat.Stop }, System = chat.System,
            History = { chat.History.Select(t => new ConversationTurn { User = t.User, Assistant = t.Assistant }) },
        };
        if (chat.Temperature is { } t) request.Temperature = t;   // unset = greedy
        if (chat.Seed is { } s) request.Seed = s;
        return request;
    }
}
