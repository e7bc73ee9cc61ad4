using System.CommandLine;
using Grpc.Core;
using Grpc.Net.Client;
using MultiModal.Cli.Errors;

namespace MultiModal.Cli.Gateway;

/// <summary>
/// One channel to the gateway and the headers every call sends: the API key (when <c>MM_API_KEY</c> is set) as
/// <c>authorization: Bearer &lt;key&gt;</c>, as the gateway's front door expects (gateway/README.md).
/// </summary>
internal sealed class GatewayConnection : IDisposable
{
    private GatewayConnection(string address, GrpcChannel channel, Metadata headers)
    {
        Address = address;
        Channel = channel;
        Headers = headers;
    }

    /// <summary>The address as given (for error messages).</summary>
    public string Address { get; }

    public GrpcChannel Channel { get; }

    public Metadata Headers { get; }

    public static GatewayConnection Open(ParseResult parsed)
    {
        var address = parsed.GetValue(GatewayOptions.Address) ?? GatewayOptions.DefaultAddress;
        var url = address.Contains("://", StringComparison.Ordinal) ? address : $"http://{address}";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliInputException($"gateway address '{address}' is not host:port nor an http(s) URL");
        var headers = new Metadata();
        if (Environment.GetEnvironmentVariable(GatewayOptions.KeyVariable) is { Length: > 0 } key)
            headers.Add("authorization", $"Bearer {key}");
        // Results carry full-size PNGs (several per call with -n): allow what the services send (64 MiB).
        var channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        return new GatewayConnection(address, channel, headers);
    }

    public void Dispose() => Channel.Dispose();
}
