using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace RichLazyOrleans.Training;

/// <summary>
/// A minimal PNG encoder (no dependencies): 8-bit truecolour (colour type 2) or greyscale (colour
/// type 0), non-interlaced, one IDAT chunk holding the zlib stream of the rows, each row preceded by
/// filter byte 0 (None). Files are written atomically: to a temporary file in the same directory,
/// then moved over the target.
/// </summary>
public static class Png
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// Writes an RGB image: <paramref name="rgb"/> holds width·height·3 bytes, rows top to bottom, R, G, B per pixel.
    /// </summary>
    public static void WriteRgb(string path, int width, int height, ReadOnlySpan<byte> rgb) =>
        Write(path, width, height, rgb, channels: 3);

    /// <summary>
    /// Writes a greyscale image: <paramref name="gray"/> holds width·height bytes, rows top to bottom (0 black, 255
    /// white).
    /// </summary>
    public static void WriteGray(string path, int width, int height, ReadOnlySpan<byte> gray) =>
        Write(path, width, height, gray, channels: 1);

    /// <summary>The PNG file's bytes (what <see cref="WriteRgb"/>/<see cref="WriteGray"/> write).</summary>
    public static byte[] Encode(int width, int height, ReadOnlySpan<byte> pixels, int channels)
    {
        if (channels is not (1 or 3))
            throw new ArgumentException($"channels must be 1 (grey) or 3 (RGB), got {channels}", nameof(channels));
        CheckSize(width, height, pixels.Length, channels, channels == 1 ? "gray" : "rgb");
        int stride = width * channels;

        // Raw scanlines: filter byte 0, then the row's bytes.
        var raw = new byte[checked((long)height * (stride + 1))];
        for (int y = 0; y < height; y++)
            pixels.Slice(y * stride, stride).CopyTo(raw.AsSpan(y * (stride + 1) + 1));
        byte[] idat;
        using (var ms = new MemoryStream())
        {
            using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
            idat = ms.ToArray();
        }

        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;                                   // bit depth
        ihdr[9] = channels == 1 ? (byte)0 : (byte)2;   // colour type: grey or truecolour
        ihdr[10] = 0;                                  // compression: deflate
        ihdr[11] = 0;                                  // filter method 0
        ihdr[12] = 0;                                  // no interlace

        using var file = new MemoryStream(Signature.Length + 3 * 12 + ihdr.Length + idat.Length);
        file.Write(Signature);
        WriteChunk(file, "IHDR", ihdr);
        WriteChunk(file, "IDAT", idat);
        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    /// <summary>CRC-32 (ISO 3309 / ITU-T V.42, polynomial 0xEDB88320 reflected), as PNG chunks use it.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data, uint crc = 0)
    {
        crc = ~crc;
        foreach (byte b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static void Write(string path, int width, int height, ReadOnlySpan<byte> pixels, int channels)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Encode(width, height, pixels, channels);
        string full = Path.GetFullPath(path);
        string tmp = Path.Combine(Path.GetDirectoryName(full)!,
            $".{Path.GetFileName(full)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    private static void CheckSize(int width, int height, int length, int channels, string name)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"PNG width and height must be ≥ 1, got {width}×{height}");
        long need = (long)width * height * channels;
        if ((long)width * channels + 1 > int.MaxValue || (long)height * ((long)width * channels + 1) > Array.MaxLength)
            throw new ArgumentException($"PNG of {width}×{height} is too large to encode in memory");
        if (length != need)
            throw new ArgumentException(
                $"{width}×{height} {(channels == 1 ? "grey" : "RGB")} image needs {need} bytes, got {length}", name);
    }

    private static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        Encoding.ASCII.GetBytes(type, head[4..]);
        s.Write(head);
        s.Write(data);
        uint crc = Crc32(data, Crc32(head[4..]));
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc);
        s.Write(tail);
    }
}
