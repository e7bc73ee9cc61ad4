using System.Text;
using System.Text.RegularExpressions;
using Google.Rpc;
using Grpc.Core;

namespace MultiModal.Cli.Errors;

/// <summary>
/// One readable line from a failed call: the status code, the AIP-193 <c>ErrorInfo</c> reason in brackets, then each
/// <c>BadRequest</c> field with its description (else the status message), and the <c>RetryInfo</c> delay, e.g.
/// <c>mm: INVALID_ARGUMENT [INVALID_INPUT] texts: at least one text is required</c>.
/// </summary>
internal static partial class ErrorLine
{
    public static string From(RpcException ex, string gateway)
    {
        var line = new StringBuilder("mm: ").Append(ConstantCase(ex.StatusCode));
        var status = ex.GetRpcStatus();
        var fields = new List<string>();
        TimeSpan? retry = null;
        foreach (var detail in status?.Details ?? [])
        {
            if (detail.TryUnpack<ErrorInfo>(out var info))
                line.Append(" [").Append(info.Reason).Append(']');
            else if (detail.TryUnpack<BadRequest>(out var bad))
                fields.AddRange(bad.FieldViolations.Select(v => $"{v.Field}: {v.Description}"));
            else if (detail.TryUnpack<RetryInfo>(out var info2) && info2.RetryDelay is { } delay)
                retry = delay.ToTimeSpan();
        }
        line.Append(' ');
        if (fields.Count > 0)
            line.AppendJoin("; ", fields);
        else if (IsUnreachable(ex))
            line.Append($"cannot reach the gateway at {gateway} ({OneLine(ex.Status.Detail)})");
        else
            line.Append(OneLine(status?.Message is { Length: > 0 } message ? message : ex.Status.Detail));
        if (retry is { } wait)
            line.Append($" (retry in {wait.TotalSeconds:0.#} s)");
        return line.ToString();
    }

    /// <summary>UNAVAILABLE without AIP-193 details: the client could not connect (a service's refusal carries details).</summary>
    public static bool IsUnreachable(RpcException ex) => ex.StatusCode == StatusCode.Unavailable && ex.GetRpcStatus() is null;

    /// <summary><c>StatusCode.InvalidArgument</c> → <c>INVALID_ARGUMENT</c>, as gRPC spells codes.</summary>
    public static string ConstantCase(StatusCode code) => ConstantCase(code.ToString());

    /// <summary><c>NotServing</c> → <c>NOT_SERVING</c>.</summary>
    public static string ConstantCase(string pascalCase) => WordBoundary().Replace(pascalCase, "_").ToUpperInvariant();

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [GeneratedRegex("(?<=[a-z])(?=[A-Z])")]
    private static partial Regex WordBoundary();
}
