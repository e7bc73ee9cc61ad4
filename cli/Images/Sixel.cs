using System.Globalization;
using System.Text;

namespace MultiModal.Cli.Images;

/// <summary>
/// DEC sixel: a fixed 6×6×6 colour cube (216 registers, nearest level per channel, no dithering: previews are small
/// and approximate anyway), bands of six rows, each colour's columns run-length encoded (<c>!n</c>).
/// </summary>
internal static class Sixel
{
    public static string Encode(ReadOnlySpan<byte> rgba, int width, int height)
    {
        var index = new byte[width * height];
        for (var i = 0; i < index.Length; i++)
            index[i] = (byte)(Level(rgba[4 * i]) * 36 + Level(rgba[4 * i + 1]) * 6 + Level(rgba[4 * i + 2]));

        var sixel = new StringBuilder("\u001bP0;1;0q");
        sixel.Append(CultureInfo.InvariantCulture, $"\"1;1;{width};{height}");
        for (var c = 0; c < 216; c++)
            sixel.Append(CultureInfo.InvariantCulture, $"#{c};2;{c / 36 * 20};{c / 6 % 6 * 20};{c % 6 * 20}");

        var bits = new byte[width];
        for (var top = 0; top < height; top += 6)
        {
            var rows = Math.Min(6, height - top);
            var used = new SortedSet<byte>();
            for (var y = top; y < top + rows; y++)
                for (var x = 0; x < width; x++)
                    used.Add(index[y * width + x]);
            var first = true;
            foreach (var colour in used)
            {
                for (var x = 0; x < width; x++)
                {
                    bits[x] = 0;
                    for (var r = 0; r < rows; r++)
                        if (index[(top + r) * width + x] == colour)
                            bits[x] |= (byte)(1 << r);
                }
                if (!first)
                    sixel.Append('$');   // back to the band's first column for the next colour
                first = false;
                sixel.Append('#').Append(colour);
                AppendRuns(sixel, bits);
            }
            sixel.Append('-');           // next band
        }
        return sixel.Append("\u001b\\\n").ToString();
    }

    // 0..255 → nearest of 6 levels (0, 51, ..., 255).
    private static int Level(byte value) => (value + 25) / 51;

    private static void AppendRuns(StringBuilder sixel, byte[] bits)
    {
        for (var x = 0; x < bits.Length;)
        {
            var run = 1;
            while (x + run < bits.Length && bits[x + run] == bits[x])
                run++;
            var ch = (char)('?' + bits[x]);
            if (run > 3)
                sixel.Append('!').Append(run).Append(ch);
            else
                sixel.Append(ch, run);
            x += run;
        }
    }
}
