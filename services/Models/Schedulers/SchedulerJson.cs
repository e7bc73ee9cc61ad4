using System.Text;
using System.Text.Json;

namespace MultiModal.Models.Schedulers;

/// <summary>
/// JSON as Python's <c>json</c> module writes it: diffusers saves <c>lambda_min_clipped: -Infinity</c>, which strict
/// JSON readers reject, so bare <c>NaN</c> / <c>Infinity</c> / <c>-Infinity</c> tokens are quoted before parsing.
/// </summary>
public static class SchedulerJson
{
    private static readonly string[] NonFinite = ["-Infinity", "Infinity", "NaN"];

    /// <summary>Quotes bare NaN / Infinity / -Infinity tokens outside strings so System.Text.Json can read the text.</summary>
    public static string QuoteNonFiniteNumbers(string json)
    {
        var output = new StringBuilder(json.Length + 16);
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                output.Append(c);
                if (c == '\\' && i + 1 < json.Length) output.Append(json[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; output.Append(c); continue; }
            var token = NonFinite.FirstOrDefault(t => string.CompareOrdinal(json, i, t, 0, t.Length) == 0);
            if (token is null) { output.Append(c); continue; }
            output.Append('"').Append(token).Append('"');
            i += token.Length - 1;
        }
        return output.ToString();
    }

    /// <summary>A number, or one of the quoted non-finite tokens.</summary>
    public static double GetDouble(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String => value.GetString() switch
        {
            "-Infinity" => double.NegativeInfinity,
            "Infinity" => double.PositiveInfinity,
            "NaN" => double.NaN,
            var s => throw new InvalidDataException($"Expected a number, got \"{s}\"."),
        },
        _ => throw new InvalidDataException($"Expected a number, got {value.ValueKind}."),
    };

    /// <summary>A JSON boolean.</summary>
    public static bool GetBool(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new InvalidDataException($"Expected true or false, got {value.ValueKind}."),
    };
}
