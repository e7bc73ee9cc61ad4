namespace MultiModal.Models.Errors;

/// <summary>Why model-side code refused an input. Core maps each kind to a gRPC status and ErrorInfo reason.</summary>
public enum InputRejection
{
    /// <summary>Malformed or out of range (INVALID_ARGUMENT, reason INVALID_INPUT).</summary>
    Invalid,
    /// <summary>Not a decodable image of an allowed format (INVALID_ARGUMENT, UNSUPPORTED_IMAGE_FORMAT).</summary>
    UnsupportedImageFormat,
    /// <summary>Over the byte or pixel limit (INVALID_ARGUMENT, IMAGE_TOO_LARGE).</summary>
    ImageTooLarge,
    /// <summary>More tokens than the model accepts (INVALID_ARGUMENT, PROMPT_TOO_LONG).</summary>
    PromptTooLong,
}

/// <summary>
/// An input the caller must fix. Thrown by model-side code (decoders, tokenizers, processors), which does not know the
/// request's field path: callers that do attach it with <see cref="WithField"/> (e.g. <c>images[2].data</c>).
/// </summary>
public sealed class InputRejectedException(InputRejection kind, string message, string field = "") : Exception(message)
{
    public InputRejection Kind { get; } = kind;

    /// <summary>Proto field path of the offending input, or empty when unknown.</summary>
    public string Field { get; } = field;

    public InputRejectedException WithField(string field) => new(Kind, Message, field);
}
