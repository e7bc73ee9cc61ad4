using System.Collections.Frozen;
using System.Reflection;
using Google.Protobuf.Reflection;

namespace MultiModal.Gateway.Retry;

/// <summary>
/// The unary gRPC methods of every service in the fleet's contracts, as request paths
/// (<c>/multimodal.clip.v1.ClipService/EmbedTexts</c>). Only these are retried: a client-, server- or bidirectional
/// streaming call may have sent or received messages, and is never replayed.
/// </summary>
/// <remarks>
/// Read from the descriptors that protoc generated into the Contracts assembly (each <c>*Reflection.Descriptor</c>),
/// so a new RPC in <c>protos/</c> is covered without a list to keep in step.
/// </remarks>
public sealed class UnaryMethods
{
    private readonly FrozenSet<string> _paths;

    /// <summary>The unary methods of every service in <paramref name="files"/>.</summary>
    public UnaryMethods(IEnumerable<FileDescriptor> files) =>
        _paths = files
            .SelectMany(file => file.Services)
            .SelectMany(service => service.Methods)
            .Where(method => !method.IsClientStreaming && !method.IsServerStreaming)
            .Select(method => $"/{method.Service.FullName}/{method.Name}")
            .ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The unary methods of every proto file compiled into the Contracts assembly.</summary>
    public static UnaryMethods FromContracts() => new(ContractFiles(typeof(MultiModal.Contracts.Clip.V1.ClipService).Assembly));

    /// <summary>Every path, for logs and tests.</summary>
    public IReadOnlyCollection<string> Paths => _paths;

    /// <summary>Whether <paramref name="path"/> (a request path) is a unary method.</summary>
    public bool Contains(string? path) => path is not null && _paths.Contains(path);

    // protoc's C# generator emits one static class per file with `public static FileDescriptor Descriptor`.
    private static IEnumerable<FileDescriptor> ContractFiles(Assembly contracts) =>
        contracts.GetExportedTypes()
            .Where(type => type is { IsAbstract: true, IsSealed: true } && type.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(type => type.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
            .OfType<FileDescriptor>();
}
