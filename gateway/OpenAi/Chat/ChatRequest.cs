namespace MultiModal.Gateway.OpenAi.Chat;

/// <summary>A validated <c>POST /v1/chat/completions</c> body, ready to become a Describe call.</summary>
/// <param name="Images">Each image_url in order, with its JSON path for errors.</param>
/// <param name="MaxTokensParam">Which of max_completion_tokens / max_tokens the client sent (for error params).</param>
public sealed record ChatRequest(
    string Model,
    IReadOnlyList<ImageRef> Images,
    string Prompt,
    uint MaxTokens,
    string MaxTokensParam,
    float? Temperature,
    float TopP,
    ulong? Seed,
    IReadOnlyList<string> Stop,
    bool Stream,
    bool IncludeUsage)
{
    /// <summary>Earlier (user, assistant) exchanges, oldest first.</summary>
    public IReadOnlyList<(string User, string Assistant)> History { get; init; } = [];

    /// <summary>System and developer messages, joined by newlines ("" when none).</summary>
    public string System { get; init; } = "";
}

/// <summary>An image URL (data: or http(s)) and where it sat in the request, e.g. <c>messages[0].content[1].image_url</c>.</summary>
public sealed record ImageRef(string Url, string Param);
