using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RichLazyOrleans.Training;

/// <summary>A bad or unsupported .npy file; the message names the file.</summary>
public sealed class NpyFormatException(string message) : Exception(message);

/// <summary>An n-dimensional array read from or written to NumPy's .npy format, held as float64, C order.</summary>
public sealed record NpyArray(long[] Shape, double[] Data)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// Reader and writer for NumPy's .npy format, versions 1.0, 2.0 and 3.0
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): magic "\x93NUMPY",
/// version, little-endian header length (2 bytes in v1, 4 in v2/v3), a Python-literal dict with
/// 'descr', 'fortran_order' and 'shape', padded so the data starts 64-byte aligned.
/// Reads float64 and float32 (either byte order) and integer arrays, converting to float64;
/// C order only (a Fortran-order file is refused with a clear message). Writes float64 C order.
/// </summary>
public static partial class Npy
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static NpyArray Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
            or NotSupportedException)
        {
            throw new NpyFormatException($"cannot read '{path}': {e.Message}");
        }
        return Parse(bytes, path);
    }

    public static NpyArray Parse(byte[] bytes, string name = "array")
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new NpyFormatException($"'{name}' is not a .npy file (bad magic)");
        int major = bytes[6];
        int headerLen, offset;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); offset = 10; }
        else if (major is 2 or 3)
        {
            headerLen = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8))); offset = 12;
        }
        else throw new NpyFormatException($"'{name}': unsupported .npy version {major}.{bytes[7]}");
        if (offset + headerLen > bytes.Length) throw new NpyFormatException($"'{name}': truncated header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes, offset, headerLen);

        var descr = DescrRegex().Match(header);
        var fortran = FortranRegex().Match(header);
        var shapeMatch = ShapeRegex().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new NpyFormatException($"'{name}': malformed header {header.Trim()}");
        if (fortran.Groups[1].Value == "True")
            throw new NpyFormatException($"'{name}' is in Fortran order; save it with numpy.ascontiguousarray first");
        var shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);

        string d = descr.Groups[1].Value;
        char order = d[0];
        string kind = d[1..];
        bool little = order is '<' or '|' or '=';
        int size = kind switch { "f8" or "i8" or "u8" => 8, "f4" or "i4" or "u4" => 4, "i2" or "u2" => 2,
            "i1" or "u1" or "b1" => 1, _ => 0 };
        if (size == 0)
            throw new NpyFormatException($"'{name}': unsupported dtype '{d}' (float64, float32 or integers expected)");
        int dataStart = offset + headerLen;
        if ((long)bytes.Length - dataStart < count * size) throw new NpyFormatException(
            $"'{name}': truncated data ({bytes.Length - dataStart} bytes for {count} x {size})");

        var data = new double[count];
        var span = bytes.AsSpan(dataStart);
        for (long i = 0; i < count; i++)
        {
            var s = span.Slice((int)(i * size), size);
            data[i] = kind switch
            {
                "f8" => little ? BinaryPrimitives.ReadDoubleLittleEndian(s) : BinaryPrimitives.ReadDoubleBigEndian(s),
                "f4" => little ? BinaryPrimitives.ReadSingleLittleEndian(s) : BinaryPrimitives.ReadSingleBigEndian(s),
                "i8" => little ? BinaryPrimitives.ReadInt64LittleEndian(s) : BinaryPrimitives.ReadInt64BigEndian(s),
                "u8" => little ? BinaryPrimitives.ReadUInt64LittleEndian(s) : BinaryPrimitives.ReadUInt64BigEndian(s),
                "i4" => little ? BinaryPrimitives.ReadInt32LittleEndian(s) : BinaryPrimitives.ReadInt32BigEndian(s),
                "u4" => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s),
                "i2" => little ? BinaryPrimitives.ReadInt16LittleEndian(s) : BinaryPrimitives.ReadInt16BigEndian(s),
                "u2" => little ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s),
                "i1" => (sbyte)s[0],
                _ => s[0],
            };
        }
        return new NpyArray(shape, data);
    }

    /// <summary>Writes float64, C order; version 1.0 unless the header needs more than 65535 bytes.</summary>
    public static void Write(string path, long[] shape, ReadOnlySpan<double> data)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length)
            throw new ArgumentException($"shape ({string.Join(", ", shape)}) needs {count} values, got {data.Length}");
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shapeText}, }}";
        int version = dict.Length + 11 < 65536 ? 1 : 2;
        int pre = version == 1 ? 10 : 12;
        int total = pre + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";

        using var ms = new MemoryStream();
        ms.Write(Magic);
        ms.WriteByte((byte)version);
        ms.WriteByte(0);
        Span<byte> len = stackalloc byte[4];
        if (version == 1) { BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length); ms.Write(len[..2]); }
        else { BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)header.Length); ms.Write(len); }
        ms.Write(Encoding.Latin1.GetBytes(header));
        Span<byte> v = stackalloc byte[8];
        foreach (double x in data) { BinaryPrimitives.WriteDoubleLittleEndian(v, x); ms.Write(v); }
        string tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(tmp, ms.ToArray());
        File.Move(tmp, path, overwrite: true);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([<>|=][a-z]\d+)'")]
    private static partial Regex DescrRegex();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
