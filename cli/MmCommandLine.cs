using System.CommandLine;
using MultiModal.Cli.Commands;
using MultiModal.Cli.Errors;
using MultiModal.Cli.Gateway;

namespace MultiModal.Cli;

/// <summary>The <c>mm</c> root command: the gateway options every command shares and one subcommand per task.</summary>
internal static class MmCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand("mm: embed, classify, rank, describe and generate with a MultiModal.Services gateway. " +
            $"Gateway address: --gateway or {GatewayOptions.AddressVariable} (default {GatewayOptions.DefaultAddress}); " +
            $"API key: {GatewayOptions.KeyVariable}. Exit codes: {ExitCodes.Summary}.");
        root.Options.Add(GatewayOptions.Address);
        root.AddEmbedCommand();
        root.AddClassifyCommand();
        root.AddRankCommand();
        root.AddDescribeCommand();
        root.AddGenerateCommand();
        root.AddModelsCommand();
        root.AddHealthCommand();
        return root;
    }

    /// <summary>
    /// Parses and runs. A bad command line prints its errors and exits <see cref="ExitCodes.Usage"/>; Ctrl-C cancels
    /// the running command's token (its gRPC call), which then exits <see cref="ExitCodes.Interrupted"/>.
    /// </summary>
    public static async Task<int> RunAsync(this RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in parsed.Errors)
                Console.Error.WriteLine($"mm: {error.Message}");
            Console.Error.WriteLine("mm: see mm --help");
            return ExitCodes.Usage;
        }
        // Ctrl-C: the token is cancelled at once; a command that has not returned 5 s later is ended with exit 130.
        return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(5) });
    }
}
