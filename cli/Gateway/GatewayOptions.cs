using System.CommandLine;

namespace MultiModal.Cli.Gateway;

/// <summary>Where the gateway is and which key to send: <c>--gateway</c>, <c>MM_GATEWAY</c>, <c>MM_API_KEY</c>.</summary>
internal static class GatewayOptions
{
    public const string AddressVariable = "MM_GATEWAY";
    public const string KeyVariable = "MM_API_KEY";
    public const string DefaultAddress = "127.0.0.1:8080";

    /// <summary><c>--gateway HOST:PORT</c> (or a URL), on every command; default <c>MM_GATEWAY</c>, else 127.0.0.1:8080.</summary>
    public static readonly Option<string> Address = new("--gateway")
    {
        HelpName = "HOST:PORT",
        Description = $"Gateway address, host:port or URL (default: ${AddressVariable}, else {DefaultAddress})",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(AddressVariable) is { Length: > 0 } value ? value : DefaultAddress,
    };
}
