using Microsoft.Extensions.Options;

namespace MultiModal.Gateway.OpenAi;

/// <summary>
/// <c>Gateway:ModelAliases</c>: model names clients send → what serves them. A target is a served model id (as
/// <c>GET /v1/models</c> lists it) or a service, <c>vision</c>, <c>clip</c> or <c>diffusion</c>, meaning whatever model that
/// service runs. The shipped set maps the OpenAI names existing code uses, so such code changes only its base URL.
/// </summary>
public sealed class OpenAiOptions
{
    public const string SectionName = "Gateway";

    public Dictionary<string, string> ModelAliases { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Start-up checks of <see cref="OpenAiOptions"/>.</summary>
public sealed class OpenAiOptionsValidator : IValidateOptions<OpenAiOptions>
{
    public ValidateOptionsResult Validate(string? name, OpenAiOptions o)
    {
        var failures = o.ModelAliases
            .Where(a => string.IsNullOrWhiteSpace(a.Key) || string.IsNullOrWhiteSpace(a.Value))
            .Select(a => $"Gateway:ModelAliases:{a.Key} must name a served model or a service (vision, clip, diffusion).")
            .ToList();
        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
