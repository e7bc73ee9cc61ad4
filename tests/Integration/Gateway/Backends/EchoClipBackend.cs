using Grpc.Core;
using MultiModal.Contracts.Clip.V1;

namespace MultiModal.Tests.Integration.Gateway.Backends;

/// <summary>
/// Test double of ClipService for the proxy tests only: <c>GetModelInfo</c> answers the backend's own name (so a
/// test can tell which destination served a call) and <c>EmbedTexts</c> echoes each text's length as its embedding.
/// </summary>
public sealed class EchoClipBackend(string name) : ClipService.ClipServiceBase
{
    public override Task<GetModelInfoResponse> GetModelInfo(GetModelInfoRequest request, ServerCallContext context)
        => Task.FromResult(new GetModelInfoResponse { ModelName = name });

    public override Task<EmbedTextsResponse> EmbedTexts(EmbedTextsRequest request, ServerCallContext context)
    {
        var response = new EmbedTextsResponse();
        foreach (var text in request.Texts)
            response.Embeddings.Add(new Embedding { Values = { text.Length } });
        return Task.FromResult(response);
    }
}
