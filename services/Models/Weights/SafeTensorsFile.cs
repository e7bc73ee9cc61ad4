using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace MultiModal.Models.Weights;

/// <summary>Where one tensor lives inside a .safetensors file.</summary>
public sealed record SafeTensorEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>What a safetensors header says: where the data starts, each tensor's place, the free-form metadata.</summary>
public sealed record SafeTensorsHeader(
    long DataStart, long FileLength, IReadOnlyDictionary<string, SafeTensorEntry> Entries, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Reads the safetensors format (u64-LE header length, JSON header, raw little-endian data) without copying the
/// weights: the file is memory-mapped with <c>torch.from_file(shared: false)</c> (a private, copy-on-write mapping)
/// and each tensor is a <c>narrow(...).view(shape)</c> of that mapping. Pages are read from disk when first touched.
/// Supports F32, F16, BF16, F64, I64, I32, I16, I8, U8 and BOOL.
/// </summary>
public sealed class SafeTensorsFile
{
    private const long MaxHeaderBytes = 100L << 20; // the format's own limit
    private readonly Dictionary<ScalarType, Tensor> _mappings = new();

    public string Path { get; }
    public long DataStart { get; }
    public long FileLength { get; }
    public IReadOnlyDictionary<string, SafeTensorEntry> Entries { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafeTensorsFile(string path, SafeTensorsHeader header)
    {
        (Path, DataStart, FileLength, Entries, Metadata) = (path, header.DataStart, header.FileLength, header.Entries, header.Metadata);
    }

    /// <summary>Parses and validates the header (offsets inside the file, byte lengths match shapes).</summary>
    public static SafeTensorsFile Open(string path)
    {
        using var stream = File.OpenRead(path);
        return new SafeTensorsFile(path, ReadHeader(stream, path));
    }

    /// <summary>
    /// Parses and validates the header at the start of <paramref name="stream"/>, whose length is the file's;
    /// <paramref name="path"/> names the file in messages.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// Not a safetensors file: a bad length prefix, a header that is not a UTF-8 JSON object of tensor entries
    /// (<c>dtype</c> string, <c>shape</c> of non-negative integers, two <c>data_offsets</c>), or offsets that do not fit
    /// the shape or the file.
    /// </exception>
    /// <exception cref="NotSupportedException">A tensor's dtype is not one this reader knows.</exception>
    public static SafeTensorsHeader ReadHeader(Stream stream, string path)
    {
        var fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) != 8)
            throw new InvalidDataException($"'{path}' is not a safetensors file: shorter than 8 bytes.");
        var headerLength = BitConverter.ToInt64(lengthBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > fileLength)
            throw new InvalidDataException($"'{path}' is not a safetensors file: header length {headerLength} is invalid.");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        // System.Text.Json checks the JSON grammar but leaves invalid UTF-8 inside strings to whoever reads them.
        if (!System.Text.Unicode.Utf8.IsValid(header))
            throw new InvalidDataException($"'{path}' is not a safetensors file: the header is not UTF-8.");

        var entries = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>();
        var dataStart = 8 + headerLength;
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not a safetensors file: the header is not JSON ({e.Message}).", e);
        }
        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{path}' is not a safetensors file: the header is not a JSON object.");
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new InvalidDataException($"'{path}': __metadata__ is not a JSON object.");
                    foreach (var m in property.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                entries[property.Name] = ParseEntry(property, path, dataStart, fileLength);
            }
        }
        return new SafeTensorsHeader(dataStart, fileLength, entries, metadata);
    }

    // {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, begin/end relative to the data start.
    private static SafeTensorEntry ParseEntry(JsonProperty property, string path, long dataStart, long fileLength)
    {
        InvalidDataException Bad(string what) => new($"'{path}': tensor '{property.Name}' {what}.");
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad("is not a JSON object");
        if (!value.TryGetProperty("dtype", out var dtypeJson) || dtypeJson.ValueKind != JsonValueKind.String)
            throw Bad("has no dtype string");
        var dtype = dtypeJson.GetString()!;
        var shape = Integers(value, "shape", Bad);
        var offsets = Integers(value, "data_offsets", Bad);
        if (offsets.Length != 2)
            throw Bad($"has {offsets.Length} data_offsets instead of 2");
        var entry = new SafeTensorEntry(property.Name, dtype, shape, offsets[0], offsets[1]);
        long expected;
        try
        {
            expected = checked(shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype));
        }
        catch (OverflowException)
        {
            throw Bad($"has shape [{string.Join(", ", shape)}], more bytes than a file can hold");
        }
        if (entry.End < entry.Begin || entry.End > fileLength - dataStart || entry.ByteLength != expected)
            throw Bad($"has offsets [{string.Join(", ", offsets)}] that do not fit its shape [{string.Join(", ", shape)}] " +
                $"({dtype}) or the file ({fileLength} bytes)");
        return entry;
    }

    // A JSON array of non-negative integers that fit a long.
    private static long[] Integers(JsonElement value, string name, Func<string, InvalidDataException> bad)
    {
        if (!value.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
            throw bad($"has no {name} array");
        var integers = new long[array.GetArrayLength()];
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var n) || n < 0)
                throw bad($"has a {name} entry that is not a non-negative integer ({item.GetRawText()})");
            integers[i++] = n;
        }
        return integers;
    }

    /// <summary>
    /// The tensor as stored (its own dtype), on the CPU, sharing memory with the mapped file. Treat it as read-only;
    /// convert with <c>.to(dtype, device)</c> (which copies) before modifying.
    /// </summary>
    public Tensor Load(string name)
    {
        if (!Entries.TryGetValue(name, out var entry))
            throw new KeyNotFoundException($"Tensor '{name}' is not in '{Path}'.");
        var dtype = ToScalarType(entry.DType);
        var elementSize = ElementSize(entry.DType);
        var byteOffset = DataStart + entry.Begin;
        if (entry.ByteLength == 0)
            return zeros(entry.Shape, dtype);
        if (byteOffset % elementSize != 0)
            return LoadUnaligned(entry, dtype);

        var mapping = Mapping(dtype, elementSize);
        using var flat = mapping.narrow(0, byteOffset / elementSize, entry.ByteLength / elementSize);
        return flat.view(entry.Shape);
    }

    private Tensor Mapping(ScalarType dtype, int elementSize)
    {
        lock (_mappings)
        {
            if (!_mappings.TryGetValue(dtype, out var mapping))
            {
                mapping = from_file(Path, shared: false, size: FileLength / elementSize, dtype: dtype, device: CPU);
                mapping.DetachFromDisposeScope();
                _mappings[dtype] = mapping;
            }
            return mapping;
        }
    }

    // A tensor whose offset is not a multiple of its element size cannot be a view of a typed mapping: copy it.
    private Tensor LoadUnaligned(SafeTensorEntry entry, ScalarType dtype)
    {
        var bytes = new byte[entry.ByteLength];
        using (var stream = File.OpenRead(Path))
        {
            stream.Position = DataStart + entry.Begin;
            stream.ReadExactly(bytes);
        }
        return frombuffer(bytes, dtype).view(entry.Shape).clone();
    }

    public static int ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" => 1,
        _ => throw new NotSupportedException($"safetensors dtype '{dtype}' is not supported."),
    };

    public static ScalarType ToScalarType(string dtype) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new NotSupportedException($"safetensors dtype '{dtype}' is not supported."),
    };
}
