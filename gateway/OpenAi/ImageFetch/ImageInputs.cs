using Google.Protobuf;
using Microsoft.Extensions.Options;
using MultiModal.Contracts.Common.V1;

namespace MultiModal.Gateway.OpenAi.ImageFetch;

/// <summary>An <c>image_url</c> (data: URL, or http(s) through the guarded <see cref="ImageFetcher"/>) → a gRPC Image.</summary>
public sealed class ImageInputs(ImageFetcher fetcher, IOptions<ImageFetchOptions> options)
{
    public async Task<Image> LoadAsync(string url, string param, CancellationToken cancellationToken)
    {
        var (data, mediaType) = DataUrl.IsDataUrl(url)
            ? DataUrl.Decode(url, param, options.Value.MaxBytes)
            : await fetcher.FetchAsync(url, param, cancellationToken);
        // The services sniff the format from the bytes; the declared type is informational.
        return new Image { Data = ByteString.CopyFrom(data), MimeType = mediaType ?? "" };
    }
}
