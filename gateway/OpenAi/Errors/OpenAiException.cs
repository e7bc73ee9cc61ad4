namespace MultiModal.Gateway.OpenAi.Errors;

/// <summary>
/// A refusal in OpenAI's shape: the HTTP status and <c>{"error": {"message", "type", "param", "code"}}</c>. Thrown by
/// request validation and by <see cref="RpcErrorMapper"/>; written by <see cref="OpenAiErrorWriter"/>.
/// </summary>
public sealed class OpenAiException(int status, string message, string? param = null, string? code = null, TimeSpan? retryAfter = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>OpenAI's error type for the status: <c>invalid_request_error</c> for 4xx, <c>server_error</c> for 5xx.</summary>
    public string Type => Status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    /// <summary>400 naming <paramref name="param"/> (dotted/indexed path as OpenAI writes it, e.g. <c>messages[0].content</c>).</summary>
    public static OpenAiException Invalid(string param, string message, string code = "invalid_value") =>
        new(StatusCodes.Status400BadRequest, message, param, code);

    /// <summary>404 <c>model_not_found</c>.</summary>
    public static OpenAiException ModelNotFound(string model, string why) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist or is not served here: {why}", "model", "model_not_found");
}
