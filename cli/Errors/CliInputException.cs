namespace MultiModal.Cli.Errors;

/// <summary>A problem with what the user gave locally (a missing file, a bad address): exit code 2, no call made.</summary>
internal sealed class CliInputException(string message) : Exception(message);
