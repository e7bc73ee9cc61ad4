using Google.Protobuf;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>Parses request bytes as gRPC would before a handler runs; bytes that are no such message never reach it.</summary>
internal static class ProtoInput
{
    public static bool TryParse<T>(MessageParser<T> parser, ReadOnlySpan<byte> bytes, out T message) where T : IMessage<T>
    {
        try
        {
            message = parser.ParseFrom(bytes);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            message = default!;
            return false;
        }
    }
}
