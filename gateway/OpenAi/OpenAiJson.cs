using System.Text.Json;
using System.Text.Json.Serialization;

namespace MultiModal.Gateway.OpenAi;

/// <summary>JSON as OpenAI writes it: snake_case properties, nulls written (OpenAI sends <c>"param": null</c>).</summary>
public static class OpenAiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
