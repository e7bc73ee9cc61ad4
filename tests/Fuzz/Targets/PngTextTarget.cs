using System.Buffers.Binary;
using MultiModal.Models.Imaging;

namespace MultiModal.Tests.Fuzz.Targets;

/// <summary>
/// <see cref="PngTextChunks.Read"/> on arbitrary bytes; for a PNG it reads, two round trips through
/// <see cref="PngTextChunks.Insert"/>: every entry written into a small PNG reads back equal, and an entry inserted into
/// the input itself reads back next to the input's own entries. Clean rejections: <see cref="InvalidDataException"/>
/// (not a PNG, truncated, bad CRC, bad text chunk) and, from Insert, <see cref="ArgumentException"/> (a keyword or
/// text PNG cannot hold). Every chunk's CRC is recomputed before Read (<see cref="WithFixedCrcs"/>), so that mutated
/// chunks reach the text parsers instead of stopping at the CRC check (which the unit tests cover).
/// </summary>
public sealed class PngTextTarget : IFuzzTarget
{
    public const string TargetName = "png-text";
    private const string InsertedKeyword = "fuzz";
    private const string InsertedText = "inserted by the png-text fuzz target";
    private readonly byte[] _smallPng = ImageEncoder.EncodePng(new DecodedImage(1, 1, [1, 2, 3]));

    public string Name => TargetName;

    public string Description => "PNG bytes → PngTextChunks.Read, then Insert/Read round trips; rejects with InvalidDataException";

    public void Run(ReadOnlySpan<byte> bytes)
    {
        var input = WithFixedCrcs(bytes.ToArray());
        IReadOnlyDictionary<string, string> entries;
        try
        {
            entries = PngTextChunks.Read(input);
        }
        catch (InvalidDataException)
        {
            return;
        }

        foreach (var (keyword, text) in entries)
        {
            byte[] png;
            try
            {
                png = PngTextChunks.Insert(_smallPng, keyword, text);
            }
            catch (ArgumentException)
            {
                continue; // a keyword PNG allows in a file but Insert refuses to write (e.g. a double space): documented
            }
            var back = PngTextChunks.Read(png);
            FuzzInvariantException.That(back.Count == 1 && back.TryGetValue(keyword, out var read) && read == text,
                $"text entry '{keyword}' did not round-trip");
        }

        byte[] inserted;
        try
        {
            inserted = PngTextChunks.Insert(input, InsertedKeyword, InsertedText);
        }
        catch (InvalidDataException)
        {
            return; // readable chunks, but no IHDR right after the signature: Insert needs one
        }
        var all = PngTextChunks.Read(inserted);
        foreach (var (keyword, text) in entries)
            FuzzInvariantException.That(all.TryGetValue(keyword, out var read) && read == text, $"entry '{keyword}' changed after Insert");
        FuzzInvariantException.That(entries.ContainsKey(InsertedKeyword) || all[InsertedKeyword] == InsertedText, "inserted entry not read back");
        FuzzInvariantException.That(all.Count == entries.Count + (entries.ContainsKey(InsertedKeyword) ? 0 : 1), "entry count changed after Insert");
    }

    /// <summary>A copy of <paramref name="png"/> whose chunks (as far as they fit the bytes) all carry correct CRCs.</summary>
    public static byte[] WithFixedCrcs(byte[] png)
    {
        var fixedPng = (byte[])png.Clone();
        for (var at = 8; at + 12 <= fixedPng.Length;)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(fixedPng.AsSpan(at));
            if (length > fixedPng.Length - at - 12)
                break;
            var crc = Seeds.Crc(fixedPng.AsSpan(at + 4, 4 + (int)length));
            BinaryPrimitives.WriteUInt32BigEndian(fixedPng.AsSpan(at + 8 + (int)length), crc);
            at += 12 + (int)length;
        }
        return fixedPng;
    }
}
