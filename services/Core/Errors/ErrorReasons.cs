using System.Collections.Frozen;
using Google.Protobuf.Reflection;
using MultiModal.Contracts.Common.V1;

namespace MultiModal.Core.Errors;

/// <summary>Wire names of <see cref="ErrorReason"/>: the proto value name without its <c>ERROR_REASON_</c> prefix.</summary>
public static class ErrorReasons
{
    /// <summary>ErrorInfo.domain of every error the fleet sends.</summary>
    public const string Domain = "multimodal";

    private const string Prefix = "ERROR_REASON_";

    // Read from the proto descriptor, not from the C# names, so the wire strings are exactly the .proto spelling.
    private static readonly FrozenDictionary<ErrorReason, string> ToWireNames = ErrorReasonReflection.Descriptor
        .FindTypeByName<EnumDescriptor>("ErrorReason").Values
        .ToFrozenDictionary(v => (ErrorReason)v.Number, v => v.Name[Prefix.Length..]);

    private static readonly FrozenDictionary<string, ErrorReason> FromWireNames =
        ToWireNames.ToFrozenDictionary(kv => kv.Value, kv => kv.Key);

    /// <summary>E.g. <see cref="ErrorReason.QueueFull"/> → <c>"QUEUE_FULL"</c>.</summary>
    public static string ToWire(ErrorReason reason) =>
        ToWireNames.TryGetValue(reason, out var name) ? name : ToWireNames[ErrorReason.Unspecified];

    /// <summary>E.g. <c>"QUEUE_FULL"</c> → <see cref="ErrorReason.QueueFull"/>; unknown names → Unspecified.</summary>
    public static ErrorReason FromWire(string reason) =>
        FromWireNames.TryGetValue(reason, out var value) ? value : ErrorReason.Unspecified;
}
