using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Google.Protobuf;
using MultiModal.Contracts.Clip.V1;
using MultiModal.Contracts.Diffusion.V1;
using MultiModal.Contracts.Vision.V1;
using MultiModal.Models.Imaging;
using MultiModal.Tests.Fuzz.Targets;
using WireImage = MultiModal.Contracts.Common.V1.Image;

namespace MultiModal.Tests.Fuzz;

/// <summary>
/// The small valid inputs each target starts from (written by <c>MultiModal.Tests.Fuzz seeds</c> into
/// tests/Fuzz/corpus/&lt;target&gt;/seed-*): one of each image format we accept, including an animated GIF, a GIF and a
/// PNG with 256-entry palettes; PNGs with tEXt/zTXt/iTXt; a safetensors file; texts; one serialized request per RPC.
/// </summary>
public static class Seeds
{
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, byte[]>> All()
    {
        var rgb = new DecodedImage(3, 2, [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0, 0, 255, 255, 128, 128, 128]);
        var png = ImageEncoder.EncodePng(rgb);
        var images = new Dictionary<string, byte[]>
        {
            ["seed-rgb.png"] = png,
            ["seed-palette256.png"] = PalettePng(16, 16),
            ["seed-rgb.jpg"] = ImageEncoder.EncodeJpeg(rgb, 80),
            ["seed-rgb.webp"] = ImageEncoder.EncodeWebp(rgb, 80),
            ["seed-rgb24.bmp"] = Bmp24(2, 2),
            ["seed-static.gif"] = Gif(2, 2, paletteBits: 1, frames: 1),
            ["seed-animated.gif"] = Gif(2, 2, paletteBits: 2, frames: 3),
            ["seed-palette256.gif"] = Gif(4, 4, paletteBits: 8, frames: 1),
        };
        var texts = new Dictionary<string, byte[]>
        {
            ["seed-plain.txt"] = "a photo of a cat"u8.ToArray(),
            ["seed-mojibake.txt"] = "The Mona Lisa doesnÃ¢â‚¬â„¢t have eyebrows &amp; &lt;3 ðŸ‘"u8.ToArray(),
            ["seed-special.txt"] = "<|startoftext|>don't STOP<|endoftext|> 12,345.6!!"u8.ToArray(),
            ["seed-unicode.txt"] = "naïve café 東京タワー 👍🏽 ﬁ Å"u8.ToArray(),
            ["seed-invalid.txt"] = [0x61, 0xC3, 0x28, 0xFF, 0xE2, 0x82, 0x20, 0xF0, 0x9F, 0x98],
            ["seed-llava-prompt.txt"] = "USER: <image>\nWhat is in this picture?  ASSISTANT:"u8.ToArray(),
        };
        return new Dictionary<string, IReadOnlyDictionary<string, byte[]>>
        {
            [ImageDecodeTarget.TargetName] = images,
            [PngTextTarget.TargetName] = new Dictionary<string, byte[]>
            {
                ["seed-text.png"] = PngTextChunks.Insert(png, "parameters", "a cat\nSteps: 20, Sampler: DDIM, Seed: 1"),
                ["seed-itxt.png"] = PngTextChunks.Insert(png, "parameters", "東京 👍"),
                ["seed-ztxt.png"] = WithChunk(png, "zTXt", [.. "Comment"u8, 0, 0, .. Deflate("compressed comment"u8)]),
                ["seed-itxt-compressed.png"] = WithChunk(png, "iTXt", [.. "Title"u8, 0, 1, 0, .. "en"u8, 0, .. "Titel"u8, 0, .. Deflate("Grüße"u8)]),
            },
            [SafeTensorsHeaderTarget.TargetName] = new Dictionary<string, byte[]>
            {
                ["seed-two-tensors.safetensors"] = SafeTensors(
                    """{"__metadata__":{"format":"pt"},"a.weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]}}""", 22),
                ["seed-empty.safetensors"] = SafeTensors("{}", 0),
            },
            [ClipTokenizerTarget.TargetName] = texts,
            [LlamaTokenizerTarget.TargetName] = texts,
            [ClipRequestTarget.TargetName] = new Dictionary<string, byte[]>
            {
                ["seed-embed-texts.bin"] = Prefixed(0, new EmbedTextsRequest { Texts = { "a cat", "a dog" }, Normalize = true }),
                ["seed-embed-images.bin"] = Prefixed(1, new EmbedImagesRequest { Images = { Wire(png), Wire(images["seed-rgb.jpg"]) } }),
                ["seed-classify.bin"] = Prefixed(2, new ClassifyRequest { Image = Wire(png), Labels = { "cat", "dog" }, Template = "a photo of a {}" }),
                ["seed-rank.bin"] = Prefixed(3, new RankRequest
                {
                    Query = new RankItem { Text = "a red square" },
                    Candidates = { new RankItem { Image = Wire(png) }, new RankItem { Text = "a blue circle" } },
                    TopK = 1,
                }),
            },
            [VisionRequestTarget.TargetName] = new Dictionary<string, byte[]>
            {
                ["seed-describe.bin"] = Prefixed(0, new DescribeRequest { Images = { Wire(png) }, Prompt = "What is this?", MaxTokens = 16 }),
                ["seed-describe-stream.bin"] = Prefixed(1, new DescribeStreamRequest
                {
                    Images = { Wire(images["seed-rgb.webp"]) }, Temperature = 0.7f, TopP = 0.9f, TopK = 40, Seed = 7, Stop = { "\n\n", "." },
                }),
            },
            [DiffusionRequestTarget.TargetName] = new Dictionary<string, byte[]>
            {
                ["seed-txt2img.bin"] = new GenerateImageRequest
                {
                    Prompt = "a watercolor fox", NegativePrompt = "blurry", Width = 512, Height = 384, Steps = 20, GuidanceScale = 7f,
                    Seed = 42, NumImages = 2, Scheduler = Scheduler.Ddim, OutputFormat = OutputFormat.Png,
                    Preview = new PreviewOptions { EveryNSteps = 5, Kind = PreviewKind.Approximate, MaxSize = 256 },
                }.ToByteArray(),
                ["seed-img2img.bin"] = new GenerateImageRequest
                {
                    Prompt = "the same, at night", InitImage = Wire(PalettePng(64, 48)), Strength = 0.6f, Steps = 10,
                }.ToByteArray(),
            },
        };
    }

    /// <summary>Writes every seed under <paramref name="corpusRoot"/>/&lt;target&gt;/.</summary>
    public static void Write(string corpusRoot)
    {
        foreach (var (target, files) in All())
        {
            var dir = Path.Combine(corpusRoot, target);
            Directory.CreateDirectory(dir);
            foreach (var (name, bytes) in files)
                File.WriteAllBytes(Path.Combine(dir, name), bytes);
        }
    }

    private static WireImage Wire(byte[] data) => new() { Data = ByteString.CopyFrom(data) };

    private static byte[] Prefixed(byte selector, IMessage message) => [selector, .. message.ToByteArray()];

    private static byte[] SafeTensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, json.Length);
        json.CopyTo(bytes, 8);
        for (var i = 0; i < dataBytes; i++)
            bytes[8 + json.Length + i] = (byte)i;
        return bytes;
    }

    private static byte[] Deflate(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal))
            zlib.Write(data);
        return output.ToArray();
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4, 4));
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    // A chunk spliced in right after IHDR (signature 8 + IHDR 25 bytes).
    private static byte[] WithChunk(byte[] png, string type, byte[] data) => [.. png[..33], .. Chunk(type, data), .. png[33..]];

    // 8-bit indexed PNG with a full 256-entry PLTE (Skia's encoder writes only RGB/RGBA).
    private static byte[] PalettePng(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 3; // colour type: palette
        var palette = new byte[256 * 3];
        for (var i = 0; i < 256; i++)
            (palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]) = ((byte)i, (byte)(255 - i), (byte)(i * 7));
        var raw = new byte[height * (width + 1)];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                raw[y * (width + 1) + 1 + x] = (byte)(x * 16 + y);
        return [0x89, .. "PNG\r\n\u001a\n"u8, .. Chunk("IHDR", ihdr), .. Chunk("PLTE", palette), .. Chunk("IDAT", Deflate(raw)), .. Chunk("IEND", [])];
    }

    private static byte[] Bmp24(int width, int height)
    {
        var stride = (width * 3 + 3) & ~3;
        var bytes = new byte[54 + stride * height];
        "BM"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), stride * height);
        for (var i = 54; i < bytes.Length; i++)
            bytes[i] = (byte)(i * 37);
        return bytes;
    }

    // GIF89a with a global palette of 2^paletteBits colours; several frames make it animated (NETSCAPE2.0 loop).
    private static byte[] Gif(int width, int height, int paletteBits, int frames)
    {
        var gif = new List<byte>("GIF89a"u8.ToArray());
        gif.AddRange([(byte)width, 0, (byte)height, 0, (byte)(0x80 | 0x70 | (paletteBits - 1)), 0, 0]);
        for (var i = 0; i < 1 << paletteBits; i++)
            gif.AddRange([(byte)(i * 255 / Math.Max(1, (1 << paletteBits) - 1)), (byte)(i * 13), (byte)(255 - i)]);
        if (frames > 1)
            gif.AddRange([0x21, 0xFF, 0x0B, .. "NETSCAPE2.0"u8, 0x03, 0x01, 0x00, 0x00, 0x00]);
        for (var f = 0; f < frames; f++)
        {
            gif.AddRange([0x21, 0xF9, 0x04, 0x00, 0x0A, 0x00, 0x00, 0x00]); // graphic control: 100 ms
            gif.AddRange([0x2C, 0, 0, 0, 0, (byte)width, 0, (byte)height, 0, 0]);
            var minCodeSize = Math.Max(2, paletteBits);
            gif.Add((byte)minCodeSize);
            var data = Lzw(Enumerable.Range(0, width * height).Select(p => (p + f) % (1 << paletteBits)).ToArray(), minCodeSize);
            for (var at = 0; at < data.Length; at += 255)
            {
                var n = Math.Min(255, data.Length - at);
                gif.Add((byte)n);
                gif.AddRange(data.AsSpan(at, n));
            }
            gif.Add(0);
        }
        gif.Add(0x3B);
        return [.. gif];
    }

    // Uncompressed GIF LZW: a clear code before every pixel keeps the code size fixed at minCodeSize + 1.
    private static byte[] Lzw(int[] pixels, int minCodeSize)
    {
        int clear = 1 << minCodeSize, end = clear + 1, size = minCodeSize + 1;
        var bits = new List<bool>();
        void Emit(int code)
        {
            for (var b = 0; b < size; b++)
                bits.Add(((code >> b) & 1) != 0);
        }
        foreach (var p in pixels)
        {
            Emit(clear);
            Emit(p);
        }
        Emit(end);
        var bytes = new byte[(bits.Count + 7) / 8];
        for (var i = 0; i < bits.Count; i++)
            if (bits[i])
                bytes[i / 8] |= (byte)(1 << (i % 8));
        return bytes;
    }

    /// <summary>CRC-32 as PNG chunks carry it (over type and data).</summary>
    internal static uint Crc(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
