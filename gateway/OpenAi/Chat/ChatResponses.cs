using MultiModal.Contracts.Vision.V1;

namespace MultiModal.Gateway.OpenAi.Chat;

/// <summary>Describe results in OpenAI's chat.completion and chat.completion.chunk shapes.</summary>
public static class ChatResponses
{
    public static object Completion(string id, long created, string model, DescribeResponse r) => new
    {
        id,
        @object = "chat.completion",
        created,
        model,
        choices = new[]
        {
            new { index = 0, message = new { role = "assistant", content = r.Text, refusal = (string?)null }, logprobs = (object?)null, finish_reason = Finish(r.FinishReason) },
        },
        usage = Usage(r.Usage),
        system_fingerprint = (string?)null,
    };

    public static object RoleChunk(string id, long created, string model, bool withUsage) =>
        Chunk(id, created, model, new { role = "assistant", content = "" }, null, withUsage);

    public static object DeltaChunk(string id, long created, string model, string text, bool withUsage) =>
        Chunk(id, created, model, new { content = text }, null, withUsage);

    public static object FinishChunk(string id, long created, string model, FinishReason reason, bool withUsage) =>
        Chunk(id, created, model, new { }, Finish(reason), withUsage);

    /// <summary>The last chunk with <c>stream_options.include_usage</c>: no choices, the usage of the whole request.</summary>
    public static object UsageChunk(string id, long created, string model, Usage? usage) => new
    {
        id,
        @object = "chat.completion.chunk",
        created,
        model,
        choices = Array.Empty<object>(),
        usage = Usage(usage),
    };

    /// <summary>A Vision field violation → the request field the client sent.</summary>
    public static string Param(string field, ChatRequest chat) => field switch
    {
        "max_tokens" => chat.MaxTokensParam,
        "temperature" or "top_p" or "seed" => field,
        _ when field.StartsWith("stop", StringComparison.Ordinal) => "stop",
        // history[i].user is message 2i after the system messages, history[i].assistant 2i + 1: "messages" names them all.
        _ when field.StartsWith("images[", StringComparison.Ordinal)
            && int.TryParse(field.AsSpan(7, field.IndexOf(']') - 7), out var i) && i < chat.Images.Count => chat.Images[i].Param,
        _ => "messages",
    };

    private static object Chunk(string id, long created, string model, object delta, string? finish, bool withUsage)
    {
        var choices = new[] { new { index = 0, delta, logprobs = (object?)null, finish_reason = finish } };
        // With include_usage, every chunk but the last carries "usage": null, as OpenAI sends it.
        return withUsage
            ? (object)new { id, @object = "chat.completion.chunk", created, model, choices, usage = (object?)null }
            : new { id, @object = "chat.completion.chunk", created, model, choices };
    }

    private static object Usage(Usage? u) => new
    {
        prompt_tokens = u?.PromptTokens ?? 0,
        completion_tokens = u?.CompletionTokens ?? 0,
        total_tokens = u?.TotalTokens ?? 0,
    };

    private static string Finish(FinishReason reason) => reason == FinishReason.Length ? "length" : "stop";
}
