using System.Buffers.Binary;
using System.Text;
using MultiModal.Models.Weights;
using Xunit;

namespace MultiModal.Tests.Unit.Weights;

/// <summary>
/// <see cref="SafeTensorsFile.ReadHeader"/> on malformed headers (each case a crash the safetensors fuzz target found,
/// tests/Fuzz/crashes/safetensors): a clear <see cref="InvalidDataException"/>, never a JSON or collection exception.
/// </summary>
public class SafeTensorsHeaderTests
{
    private const string Valid = """{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""";

    [Fact]
    public void ReadHeader_ValidHeader_ListsTensorAndMetadata()
    {
        var header = SafeTensorsFile.ReadHeader(File(Encoding.UTF8.GetBytes(Valid), 16), "x.safetensors");

        Assert.Equal(new long[] { 2, 2 }, header.Entries["a"].Shape);
        Assert.Equal((0L, 16L), (header.Entries["a"].Begin, header.Entries["a"].End));
        Assert.Equal("pt", header.Metadata["format"]);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]""", "not JSON")]                        // truncated JSON
    [InlineData("""{"a":{"dtype":"F32","shap2],"data_offsets":[0,16]}}""", "not JSON")]                             // JsonReaderException
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2],"data_offs_ts":[0,16]}}""", "data_offsets")]                    // KeyNotFoundException
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2]}}""", "data_offsets")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[16]}}""", "data_offsets")]                      // IndexOutOfRange
    [InlineData("""{"a":{"dtype":"F32","shape":"2","data_offsets":[0,16]}}""", "shape")]                             // InvalidOperation
    [InlineData("""{"a":{"dtype":"F32","shape":[2.5,2],"data_offsets":[0,16]}}""", "shape")]                         // FormatException
    [InlineData("""{"a":{"dtype":"F32","shape":[-2,-2],"data_offsets":[0,16]}}""", "shape")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}""", "more bytes")]    // overflow
    [InlineData("""{"a":{"dtype":7,"shape":[2,2],"data_offsets":[0,16]}}""", "dtype")]
    [InlineData("""{"a":[1,2]}""", "not a JSON object")]
    [InlineData("""[1,2]""", "not a JSON object")]
    [InlineData("""{"__metadata__":"pt"}""", "__metadata__")]
    public void ReadHeader_MalformedHeader_ThrowsInvalidDataException(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.ReadHeader(File(Encoding.UTF8.GetBytes(json), 16), "x.safetensors"));

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ReadHeader_InvalidUtf8InString_ThrowsInvalidDataException()
    {
        // Found as "Cannot transcode invalid UTF-8 JSON text" (InvalidOperationException) from the dtype string.
        var json = Encoding.UTF8.GetBytes(Valid.Replace("F32", "F\u0001\u0002"));
        json[Array.IndexOf(json, (byte)1)] = 0xFF;
        json[Array.IndexOf(json, (byte)2)] = 0x7F;

        var e = Assert.Throws<InvalidDataException>(() => SafeTensorsFile.ReadHeader(File(json, 16), "x.safetensors"));

        Assert.Contains("UTF-8", e.Message);
    }

    private static MemoryStream File(byte[] json, int dataBytes)
    {
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, json.Length);
        json.CopyTo(bytes, 8);
        return new MemoryStream(bytes, writable: false);
    }
}
