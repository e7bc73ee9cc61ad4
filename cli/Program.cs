// mm: the fleet's command line. Every command is wired up in MmCommandLine; exit codes in Errors/ExitCodes.cs.
using MultiModal.Cli;

return await MmCommandLine.Create().RunAsync(args);
