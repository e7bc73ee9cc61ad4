namespace MultiModal.Models.Text;

/// <summary>
/// One of the single-byte encodings ftfy tries when it un-does mojibake (chardata.CHARMAP_ENCODINGS), with Python's
/// codec tables. The "sloppy-" ones are ftfy's: bytes the real codec leaves undefined decode to the Latin-1 character
/// of the same number, and byte 0x1A stands for U+FFFD.
/// </summary>
internal sealed class SingleByteEncoding
{
    private readonly Dictionary<char, byte> _encode = new();
    private readonly char[] _decodeHigh = new char[0x80];

    private SingleByteEncoding(string name, int[] highAndSubstitute)
    {
        Name = name;
        // ASCII maps to itself, except that 0x1A is reserved for U+FFFD in the sloppy codecs.
        for (var b = 0; b < 0x80; b++)
            if (b != 0x1A) _encode[(char)b] = (byte)b;
        for (var i = 0; i < 0x80; i++) _decodeHigh[i] = (char)highAndSubstitute[i];
        for (var i = 0; i < 0x80; i++) _encode.TryAdd((char)highAndSubstitute[i], (byte)(0x80 + i));
        _encode.TryAdd((char)highAndSubstitute[0x80], 0x1A);
    }

    public string Name { get; }

    public bool IsSloppy => Name.StartsWith("sloppy", StringComparison.Ordinal);

    /// <summary>ftfy <c>possible_encoding</c>: every character of the text has a byte in this encoding.</summary>
    public bool CanEncode(string text)
    {
        foreach (var c in text)
            if (!_encode.ContainsKey(c)) return false;
        return true;
    }

    public char Decode(byte b) => b < 0x80 ? (b == 0x1A && IsSloppy ? '\uFFFD' : (char)b) : _decodeHigh[b - 0x80];

    public byte[] Encode(string text)
    {
        var bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++) bytes[i] = _encode[text[i]];
        return bytes;
    }

    /// <summary>The encodings in the order ftfy tries them (latin-1 first).</summary>
    public static IReadOnlyList<SingleByteEncoding> All => Loaded.Value;

    private static readonly Lazy<IReadOnlyList<SingleByteEncoding>> Loaded = new(() =>
    {
        using var doc = TextTables.Load("ftfy-6.1.1-tables.json");
        var root = doc.RootElement;
        var tables = root.GetProperty("singleByteEncodings");
        return root.GetProperty("encodingOrder").EnumerateArray()
            .Select(n => n.GetString()!)
            .Select(n => new SingleByteEncoding(n, tables.GetProperty(n).EnumerateArray().Select(x => x.GetInt32()).ToArray()))
            .ToArray();
    });
}
