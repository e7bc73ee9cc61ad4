using Grpc.Core;
using Microsoft.AspNetCore.Http;
using MultiModal.Contracts.Clip.V1;

namespace MultiModal.Tests.Integration.Gateway.Backends;

/// <summary>
/// Test double of a broken CLIP replica for the retry tests only: every unary call fails in the chosen
/// <see cref="Failure"/> way, while <c>/healthz</c> still answers 200 (so only the gateway's passive check sees it).
/// </summary>
public sealed class FailingClipBackend(FailingClipBackend.Failure failure) : ClipService.ClipServiceBase
{
    /// <summary>How the replica fails a call.</summary>
    public enum Failure
    {
        /// <summary>Trailers-only <c>grpc-status: 14</c>, as a draining or still-loading replica answers.</summary>
        Unavailable,

        /// <summary>Sends the response headers, then resets the stream: the answer had started.</summary>
        ResetAfterHeaders,
    }

    /// <summary>The grpc-message of <see cref="Failure.Unavailable"/>.</summary>
    public const string UnavailableMessage = "draining: try another replica";

    public override Task<GetModelInfoResponse> GetModelInfo(GetModelInfoRequest request, ServerCallContext context)
        => FailAsync<GetModelInfoResponse>(context);

    public override Task<EmbedTextsResponse> EmbedTexts(EmbedTextsRequest request, ServerCallContext context)
        => FailAsync<EmbedTextsResponse>(context);

    private async Task<T> FailAsync<T>(ServerCallContext context)
    {
        if (failure == Failure.Unavailable)
            throw new RpcException(new Status(StatusCode.Unavailable, UnavailableMessage));

        await context.WriteResponseHeadersAsync(new Metadata { { "x-replica", "resets" } });
        context.GetHttpContext().Abort();
        await Task.Delay(Timeout.Infinite, context.CancellationToken);
        throw new InvalidOperationException("unreachable: the call was aborted");
    }
}
