using System.Text;
using MultiModal.Cli.Images;
using Xunit;

namespace MultiModal.Tests.Unit.Cli;

public sealed class InlineImagesTests
{
    [Theory]
    [InlineData("TERM=xterm-kitty", "Kitty")]
    [InlineData("KITTY_WINDOW_ID=1;TERM=xterm-256color", "Kitty")]
    [InlineData("TERM=xterm-256color;TERM_PROGRAM=WezTerm", "Sixel")]
    [InlineData("TERM=foot", "Sixel")]
    [InlineData("TERM=mlterm", "Sixel")]
    [InlineData("TERM=xterm-256color", "None")]
    [InlineData("TERM=tmux-256color;TMUX=/tmp/tmux-0/default,1,0;KITTY_WINDOW_ID=1", "None")]
    [InlineData("TERM=xterm-kitty;MM_INLINE_IMAGES=none", "None")]
    [InlineData("TERM=xterm-256color;MM_INLINE_IMAGES=sixel", "Sixel")]
    public void Detect_TerminalEnvironment_ItsProtocol(string environment, string expected)
    {
        var variables = environment.Split(';').Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);

        Assert.Equal(Enum.Parse<InlineProtocol>(expected), InlineImages.Detect(name => variables.GetValueOrDefault(name), stderrIsTerminal: true));
    }

    [Fact]
    public void Detect_StderrNotATerminal_None() =>
        Assert.Equal(InlineProtocol.None, InlineImages.Detect(name => name == "TERM" ? "xterm-kitty" : null, stderrIsTerminal: false));

    [Fact]
    public void Kitty_LargeImage_ChunkedPayloadRoundTrips()
    {
        var rgba = new byte[64 * 40 * 4];
        new Random(1).NextBytes(rgba);

        var sequence = KittyGraphics.Encode(rgba, 64, 40);

        var chunks = sequence.TrimEnd('\n').Split("\u001b\\", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("\u001b_Ga=T,f=32,s=64,v=40,m=1;", chunks[0]);
        Assert.All(chunks[..^1], c => Assert.Contains("m=1;", c));
        Assert.StartsWith("\u001b_Gm=0;", chunks[^1]);
        var payload = string.Concat(chunks.Select(c => c[(c.IndexOf(';') + 1)..]));
        Assert.All(chunks, c => Assert.True(c.Length - c.IndexOf(';') - 1 <= 4096));
        Assert.Equal(rgba, Convert.FromBase64String(payload));
    }

    [Fact]
    public void Sixel_TwoColourImage_DecodesBackToItsColourCubeIndices()
    {
        const int width = 5, height = 8;   // two bands, the second partial
        var rgba = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var red = (x + y) % 2 == 0;
                rgba[4 * (y * width + x)] = red ? (byte)255 : (byte)0;
                rgba[4 * (y * width + x) + 2] = red ? (byte)0 : (byte)255;
                rgba[4 * (y * width + x) + 3] = 255;
            }

        var sixel = Sixel.Encode(rgba, width, height);

        Assert.StartsWith($"\u001bP0;1;0q\"1;1;{width};{height}", sixel);
        var pixels = Decode(sixel, width, height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                Assert.Equal((x + y) % 2 == 0 ? 5 * 36 : 5, pixels[y * width + x]);
    }

    [Theory]
    [InlineData("Jpeg")]
    [InlineData("Png")]
    public void Encode_EncodedOrangeImage_SixelOfItsColour(string format)
    {
        using var bitmap = new SkiaSharp.SKBitmap(16, 12, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Opaque);
        bitmap.Erase(new SkiaSharp.SKColor(255, 153, 0));
        using var data = bitmap.Encode(Enum.Parse<SkiaSharp.SKEncodedImageFormat>(format), 95);

        var sixel = InlineImages.Encode(InlineProtocol.Sixel, data.ToArray());

        Assert.NotNull(sixel);
        Assert.All(Decode(sixel, 16, 12), index => Assert.Equal(5 * 36 + 3 * 6 + 0, index));   // (255, 153, 0) → levels (5, 3, 0)
    }

    // A minimal sixel reader: #n selects (or, with ;2;r;g;b, defines) a colour, '?'..'~' paint six rows, !n repeats,
    // $ returns to the band's first column, - starts the next band.
    private static int[] Decode(string sixel, int width, int height)
    {
        var pixels = Enumerable.Repeat(-1, width * height).ToArray();
        var body = sixel[(sixel.IndexOf('q') + 1)..sixel.IndexOf("\u001b\\", StringComparison.Ordinal)];
        int colour = 0, x = 0, top = 0, i = 0;
        int Number()
        {
            var start = i;
            while (i < body.Length && char.IsAsciiDigit(body[i]))
                i++;
            return int.Parse(body[start..i]);
        }
        while (i < body.Length)
        {
            var c = body[i++];
            switch (c)
            {
                case '"':
                    while (i < body.Length && (char.IsAsciiDigit(body[i]) || body[i] == ';'))
                        i++;
                    break;
                case '#':
                    colour = Number();
                    if (i < body.Length && body[i] == ';')
                        while (i < body.Length && (char.IsAsciiDigit(body[i]) || body[i] == ';'))
                            i++;
                    break;
                case '$': x = 0; break;
                case '-': x = 0; top += 6; break;
                case '!':
                    var count = Number();
                    Paint(body[i++], count);
                    break;
                default:
                    Paint(c, 1);
                    break;
            }
        }
        return pixels;

        void Paint(char ch, int count)
        {
            var bits = ch - '?';
            for (var n = 0; n < count; n++, x++)
                for (var r = 0; r < 6; r++)
                    if ((bits & (1 << r)) != 0 && top + r < height)
                        pixels[(top + r) * width + x] = colour;
        }
    }
}
