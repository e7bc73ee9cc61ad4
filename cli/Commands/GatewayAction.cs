using System.CommandLine;
using Grpc.Core;
using MultiModal.Cli.Errors;
using MultiModal.Cli.Gateway;

namespace MultiModal.Cli.Commands;

/// <summary>
/// Runs a command's body with a gateway connection and turns every way it can fail into one line on stderr and an
/// exit code (<see cref="ExitCodes"/>): a failed call, bad local input, Ctrl-C.
/// </summary>
internal static class GatewayAction
{
    public static void SetGatewayAction(this Command command, Func<ParseResult, GatewayConnection, CancellationToken, Task<int>> body) =>
        command.SetAction(async (parsed, cancellationToken) =>
        {
            string gateway = parsed.GetValue(GatewayOptions.Address) ?? GatewayOptions.DefaultAddress;
            try
            {
                using var connection = GatewayConnection.Open(parsed);
                return await body(parsed, connection, cancellationToken);
            }
            catch (Exception ex) when (cancellationToken.IsCancellationRequested
                && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
            {
                Console.Error.WriteLine("mm: cancelled (the call was cancelled, and with it the server's job)");
                return ExitCodes.Interrupted;
            }
            catch (RpcException ex)
            {
                Console.Error.WriteLine(ErrorLine.From(ex, gateway));
                return ExitCodes.For(ex.StatusCode);
            }
            catch (CliInputException ex)
            {
                Console.Error.WriteLine($"mm: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"mm: cannot write the output: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
}
