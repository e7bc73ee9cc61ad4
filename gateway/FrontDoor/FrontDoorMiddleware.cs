using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using MultiModal.Contracts.Common.V1;
using MultiModal.Gateway.ApiKeys;
using MultiModal.Gateway.RateLimits;

namespace MultiModal.Gateway.FrontDoor;

/// <summary>
/// Runs before the proxy for every call: checks the API key (when keys are on), the key's concurrent calls and its
/// token bucket (weighted by method), and bounds the request body. Health, reflection and <c>/healthz</c> pass
/// without a key, so probes and <c>grpcurl list</c> work; every other path (the model services) needs one.
/// </summary>
internal sealed class FrontDoorMiddleware(
    RequestDelegate next,
    ApiKeyStore keys,
    KeyRateLimiters limiters,
    MethodWeights weights,
    FrontDoorMetrics metrics,
    IOptions<FrontDoorOptions> options,
    ILogger<FrontDoorMiddleware> logger)
{
    // Shown to a client refused for concurrency: a slot frees when one of its calls ends, which we cannot predict.
    private static readonly TimeSpan ConcurrencyRetryAfter = TimeSpan.FromSeconds(1);

    private readonly long _maxBodyBytes = options.Value.MaxRequestBodyBytes;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (IsOpen(request.Path))
        {
            await next(context);
            return;
        }

        var check = keys.Check(request, out var key);
        if (check is ApiKeyCheck.Missing or ApiKeyCheck.Invalid)
        {
            var (reason, message) = check == ApiKeyCheck.Missing
                ? (ErrorReason.ApiKeyMissing, "An API key is required: send 'authorization: Bearer <key>' or 'x-api-key: <key>'.")
                : (ErrorReason.ApiKeyInvalid, "The API key is not valid.");
            metrics.Call(FrontDoorMetrics.Anonymous, "unauthenticated");
            GatewayLog.CallUnauthenticated(logger, request.Path, reason.ToString());
            await FrontDoorResponses.Unauthenticated(context, reason, message);
            return;
        }
        var keyName = key?.Name ?? FrontDoorMetrics.Anonymous;

        if (request.ContentLength > _maxBodyBytes)
        {
            await TooLarge(context, keyName);
            return;
        }

        // Keys off: no limits (one shared bucket for every anonymous caller would throttle them all together).
        RateLimitLease? slot = null;
        if (key is not null)
        {
            var keyLimiters = limiters.For(key);
            slot = keyLimiters.AcquireSlot();
            if (slot is { IsAcquired: false })
            {
                slot.Dispose();
                metrics.Call(keyName, "concurrency_limited");
                GatewayLog.CallConcurrencyLimited(logger, request.Path, keyName, key.Limits.MaxConcurrent);
                await FrontDoorResponses.Exhausted(context, ErrorReason.RateLimited,
                    $"Key '{keyName}' has {key.Limits.MaxConcurrent} calls open, its limit.", ConcurrencyRetryAfter,
                    Metadata(keyName, "maxConcurrent", key.Limits.MaxConcurrent), StatusCodes.Status429TooManyRequests);
                return;
            }

            var weight = weights.Of(request.Path);
            using var rate = keyLimiters.AcquireRate(weight);
            if (rate is { IsAcquired: false })
            {
                slot?.Dispose();
                var retryAfter = rate.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                metrics.Call(keyName, "rate_limited");
                GatewayLog.CallRateLimited(logger, request.Path, keyName, weight, retryAfter);
                await FrontDoorResponses.Exhausted(context, ErrorReason.RateLimited,
                    $"Key '{keyName}' is over its rate of {key.Limits.RequestsPerSecond.ToString(CultureInfo.InvariantCulture)} requests per second.",
                    retryAfter, Metadata(keyName, "requestsPerSecond", key.Limits.RequestsPerSecond), StatusCodes.Status429TooManyRequests);
                return;
            }
        }

        try
        {
            var body = new LimitedRequestBody(request.Body, _maxBodyBytes);
            request.Body = body;
            try
            {
                await next(context);
            }
            catch (RequestBodyTooLargeException) when (!context.Response.HasStarted)
            {
                // A middleware inside the proxy pipeline buffered the body and let the exception through.
            }

            if (body.Exceeded)
            {
                if (!context.Response.HasStarted)
                    await TooLarge(context, keyName);
                return;
            }
            metrics.Call(keyName, "forwarded");
        }
        finally
        {
            // A stream holds its slot until it ends: the proxy returns only when the call is over.
            slot?.Dispose();
        }
    }

    private static bool IsOpen(PathString path) =>
        path.StartsWithSegments("/grpc.health.v1.Health")
        || path.StartsWithSegments("/grpc.reflection.v1.ServerReflection")
        || path.StartsWithSegments("/grpc.reflection.v1alpha.ServerReflection")
        || path.StartsWithSegments(GatewayServiceCollectionExtensions.HealthPath);

    private Task TooLarge(HttpContext context, string keyName)
    {
        metrics.Call(keyName, "too_large");
        GatewayLog.RequestTooLarge(logger, context.Request.Path, keyName, _maxBodyBytes);
        return FrontDoorResponses.Exhausted(context, ErrorReason.RequestTooLarge,
            $"The request body is larger than the gateway's limit of {_maxBodyBytes} bytes.", retryAfter: null,
            new Dictionary<string, string> { ["limitBytes"] = _maxBodyBytes.ToString(CultureInfo.InvariantCulture) },
            StatusCodes.Status413PayloadTooLarge);
    }

    private static Dictionary<string, string> Metadata(string keyName, string limit, double value) => new()
    {
        ["keyName"] = keyName,
        ["limit"] = limit,
        ["limitValue"] = value.ToString(CultureInfo.InvariantCulture),
    };
}
