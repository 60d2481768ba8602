using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

/// <summary>
/// An independent minimal PNG reader for the tests: checks the signature, walks the chunks, verifies
/// every CRC with a bitwise CRC-32 (no table, unlike the encoder), reads IHDR, inflates the concatenated
/// IDAT data and undoes the five PNG row filters (8-bit grey and RGB only).
/// </summary>
internal static class PngReader
{
    public sealed record Image(int Width, int Height, int Channels, byte[] Pixels, List<string> Chunks);

    public static uint BitwiseCrc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }

    public static Image Read(byte[] file)
    {
        byte[] signature = [137, 80, 78, 71, 13, 10, 26, 10];
        Assert.True(file.AsSpan(0, 8).SequenceEqual(signature), "bad PNG signature");
        int pos = 8, width = 0, height = 0, channels = 0;
        var chunks = new List<string>();
        using var idat = new MemoryStream();
        while (pos < file.Length)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos));
            string type = Encoding.ASCII.GetString(file, pos + 4, 4);
            var typeAndData = file.AsSpan(pos + 4, 4 + len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(pos + 8 + len));
            Assert.True(crc == BitwiseCrc32(typeAndData), $"CRC mismatch in {type}");
            var data = file.AsSpan(pos + 8, len);
            chunks.Add(type);
            switch (type)
            {
                case "IHDR":
                    Assert.Equal(13, len);
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    Assert.Equal(8, data[8]);                      // bit depth
                    channels = data[9] switch
                    {
                        0 => 1, 2 => 3, var t => throw new Xunit.Sdk.XunitException($"colour type {t}")
                    };
                    Assert.Equal(0, data[10]);
                    Assert.Equal(0, data[11]);
                    Assert.Equal(0, data[12]);
                    break;
                case "IDAT": idat.Write(data); break;
                case "IEND": Assert.Equal(0, len); break;
            }
            pos += 12 + len;
        }
        Assert.Equal(file.Length, pos);
        Assert.Equal("IHDR", chunks[0]);
        Assert.Equal("IEND", chunks[^1]);

        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        var bytes = raw.ToArray();
        int stride = width * channels;
        Assert.Equal(height * (stride + 1), bytes.Length);
        var px = new byte[height * stride];
        for (int y = 0; y < height; y++)
        {
            int filter = bytes[y * (stride + 1)];
            for (int x = 0; x < stride; x++)
            {
                int a = x >= channels ? px[y * stride + x - channels] : 0;
                int b = y > 0 ? px[(y - 1) * stride + x] : 0;
                int c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                int pred = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => pa <= pb && pa <= pc ? a : pb <= pc ? b : c,
                    _ => throw new Xunit.Sdk.XunitException($"filter {filter}"),
                };
                px[y * stride + x] = (byte)(bytes[y * (stride + 1) + 1 + x] + pred);
            }
        }
        return new Image(width, height, channels, px, chunks);
    }

    public static Image Read(string path) => Read(File.ReadAllBytes(path));
}

public sealed class PngTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rl-png-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Pattern(int n, int salt)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte)(i * 37 + salt * 11 + (i >> 3));
        return b;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 5)]
    [InlineData(7, 2)]
    [InlineData(1, 9)]
    [InlineData(13, 17)]
    [InlineData(257, 3)]
    public void Rgb_round_trips_through_an_independent_decoder(int width, int height)
    {
        var rgb = Pattern(width * height * 3, width);
        string path = Path.Combine(_dir, $"rgb-{width}x{height}.png");
        Png.WriteRgb(path, width, height, rgb);
        var img = PngReader.Read(path);
        Assert.Equal((width, height, 3), (img.Width, img.Height, img.Channels));
        Assert.Equal(rgb, img.Pixels);
        Assert.Equal(["IHDR", "IDAT", "IEND"], img.Chunks);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(2, 7)]
    [InlineData(29, 31)]
    public void Gray_round_trips_through_an_independent_decoder(int width, int height)
    {
        var gray = Pattern(width * height, height);
        string path = Path.Combine(_dir, $"gray-{width}x{height}.png");
        Png.WriteGray(path, width, height, gray);
        var img = PngReader.Read(path);
        Assert.Equal((width, height, 1), (img.Width, img.Height, img.Channels));
        Assert.Equal(gray, img.Pixels);
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value_and_the_bitwise_reference()
    {
        Assert.Equal(0xCBF43926u, Png.Crc32("123456789"u8));
        Assert.Equal(0u, Png.Crc32([]));
        var data = Pattern(1000, 3);
        Assert.Equal(PngReader.BitwiseCrc32(data), Png.Crc32(data));
        // Chaining: the CRC of a concatenation continues from the CRC of the first part.
        Assert.Equal(Png.Crc32(data), Png.Crc32(data.AsSpan(400), Png.Crc32(data.AsSpan(0, 400))));
    }

    [Fact]
    public void Overwrites_atomically_and_leaves_no_temporary_files()
    {
        string path = Path.Combine(_dir, "a.png");
        Png.WriteGray(path, 2, 2, [1, 2, 3, 4]);
        Png.WriteGray(path, 3, 1, [9, 8, 7]);
        var img = PngReader.Read(path);
        Assert.Equal((3, 1), (img.Width, img.Height));
        Assert.Equal([9, 8, 7], img.Pixels);
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    [Theory]
    [InlineData(0, 1, 0)]
    [InlineData(1, 0, 0)]
    [InlineData(-2, 3, 6)]
    [InlineData(2, 2, 3)]
    [InlineData(2, 2, 5)]
    public void Bad_sizes_throw_argument_exceptions_and_write_nothing(int width, int height, int length)
    {
        string path = Path.Combine(_dir, "bad.png");
        var e = Assert.ThrowsAny<ArgumentException>(() => Png.WriteGray(path, width, height, new byte[length]));
        Assert.Contains($"{width}×{height}", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Png.WriteRgb(path, width, height, new byte[length * 3 + 1]));
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
