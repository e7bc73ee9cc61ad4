using Grpc.Core;
using Microsoft.Extensions.Options;
using MultiModal.Gateway.OpenAi.Chat;
using MultiModal.Gateway.OpenAi.Classify;
using MultiModal.Gateway.OpenAi.Embeddings;
using MultiModal.Gateway.OpenAi.Errors;
using MultiModal.Gateway.OpenAi.ImageFetch;
using MultiModal.Gateway.OpenAi.Images;
using MultiModal.Gateway.OpenAi.Models;
using MultiModal.Gateway.OpenAi.Upstreams;

namespace MultiModal.Gateway.OpenAi;

/// <summary>
/// The OpenAI-compatible REST surface: <c>/v1/chat/completions</c>, <c>/v1/embeddings</c>, <c>/v1/images/generations</c>,
/// <c>/v1/images/edits</c>, <c>/v1/models</c>. Each request becomes gRPC calls to the services (no model logic here);
/// the front door ahead of it applies the same keys and limits as to gRPC.
/// </summary>
public static class OpenAiExtensions
{
    public static WebApplicationBuilder AddOpenAiRest(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<OpenAiOptions>().BindConfiguration(OpenAiOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OpenAiOptions>, OpenAiOptionsValidator>();
        services.AddOptions<ImageFetchOptions>().BindConfiguration(ImageFetchOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ImageFetchOptions>, ImageFetchOptionsValidator>();
        services.AddSingleton<IHostResolver>(sp => new DnsHostResolver(sp.GetRequiredService<IOptions<ImageFetchOptions>>().Value.ResolveOverrides));
        services.AddSingleton<ImageFetcher>();
        services.AddSingleton<ImageInputs>();
        services.AddSingleton<FleetChannels>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton(TimeProvider.System);
        return builder;
    }

    public static WebApplication MapOpenAiRest(this WebApplication app)
    {
        var v1 = app.MapGroup("/v1").AddEndpointFilter(MapErrorsAsync);
        v1.MapPost("/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        v1.MapPost("/embeddings", EmbeddingsEndpoint.HandleAsync);
        v1.MapPost("/images/generations", ImagesEndpoints.GenerationsAsync);
        v1.MapPost("/images/edits", ImagesEndpoints.EditsAsync).DisableAntiforgery();
        v1.MapPost("/x/classify", ClassifyEndpoint.HandleAsync);   // our extension: CLIP zero-shot (OpenAI has none)
        v1.MapGet("/models", ModelsEndpoints.ListAsync);
        v1.MapGet("/models/{id}", ModelsEndpoints.GetAsync);
        v1.MapFallback(() => Task.FromException(new OpenAiException(StatusCodes.Status404NotFound,
            "Unknown endpoint: this gateway serves /v1/chat/completions, /v1/embeddings, /v1/images/generations, /v1/images/edits, /v1/models and /v1/x/classify.",
            null, "unknown_url")));
        return app;
    }

    // Every refusal in OpenAI's shape: validation (OpenAiException), a service's gRPC error not mapped by the endpoint,
    // a client that went away (nothing to write).
    private static async ValueTask<object?> MapErrorsAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("MultiModal.Gateway.OpenAi");
        OpenAiException error;
        try
        {
            return await next(invocation);
        }
        catch (OpenAiException e)
        {
            error = e;
        }
        catch (RpcException e) when (!context.RequestAborted.IsCancellationRequested)
        {
            error = RpcErrorMapper.Map(e);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException && context.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (BadHttpRequestException e)
        {
            error = new OpenAiException(e.StatusCode, e.Message, null, e.StatusCode == 413 ? "request_too_large" : "invalid_request");
        }
        OpenAiLog.RequestFailed(logger, context.Request.Path, error.Status, error.Code, error.Message);
        if (context.Response.HasStarted)
            return Results.Empty;
        await OpenAiErrorWriter.WriteAsync(context.Response, error);
        return Results.Empty;
    }
}
