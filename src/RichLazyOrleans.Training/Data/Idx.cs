using System.Buffers.Binary;
using System.IO.Compression;

namespace RichLazyOrleans.Training;

/// <summary>A bad or unsupported IDX file (or pair of files); the message is one line and names the file.</summary>
public sealed class IdxFormatException(string message) : Exception(message);

/// <summary>IDX element types (third byte of the magic number).</summary>
public enum IdxType : byte
{
    UByte = 0x08,
    SByte = 0x09,
    Int16 = 0x0B,
    Int32 = 0x0C,
    Single = 0x0D,
    Double = 0x0E,
}

/// <summary>An IDX array as stored (element type and dims) with its values widened to float64, C order.</summary>
public sealed record IdxArray(IdxType Type, int[] Shape, double[] Data)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// MNIST-style images and labels: <see cref="Images"/> is <c>Count × Rows × Cols</c> float64 in C order,
/// each pixel byte divided by 255 so values lie in [0, 1]; <see cref="Labels"/> holds the label bytes.
/// </summary>
public sealed record MnistData(double[] Images, int Count, int Rows, int Cols, int[] Labels)
{
    public int[] Shape => [Count, Rows, Cols];
    public int PixelsPerImage => Rows * Cols;
}

/// <summary>
/// Reader (and a small writer, for fixtures) for the IDX format of LeCun's MNIST files
/// (http://yann.lecun.com/exdb/mnist/): a 4-byte magic <c>00 00 TT DD</c> (TT the element type,
/// DD the number of dims), DD big-endian int32 dims, then the elements big-endian in C order.
/// Files may be gzip-compressed (detected by the gzip magic <c>1f 8b</c>, not by the name), as they
/// are distributed. Everything is read into memory: MNIST's training images are 47 MB.
/// </summary>
public static class Idx
{
    public const int ImagesMagic = 0x00000803;   // ubyte, 3 dims: n × rows × cols
    public const int LabelsMagic = 0x00000801;   // ubyte, 1 dim: n

    /// <summary>Reads any IDX file (all six element types, any number of dims), plain or gzipped.</summary>
    public static IdxArray Read(string path)
    {
        var (type, shape, payload, offset) = Open(path);
        int count = (int)Product(shape);
        return new IdxArray(type, shape, Convert(type, payload, offset, count));
    }

    /// <summary>
    /// Parses IDX bytes (already decompressed, or gzipped); <paramref name="name"/> appears in errors.
    /// </summary>
    public static IdxArray Parse(byte[] bytes, string name = "array")
    {
        bytes = Decompress(bytes, name);
        var (type, shape, offset) = Header(bytes, name);
        return new IdxArray(type, shape, Convert(type, bytes, offset, (int)Product(shape)));
    }

    /// <summary>
    /// Images (magic 0x00000803) as float64 in [0, 1] (byte / 255), shape n × rows × cols;
    /// at most <paramref name="limit"/> images, the first ones in the file.
    /// </summary>
    public static (double[] Data, int[] Shape) ReadImages(string path, int? limit = null)
    {
        var (type, shape, payload, offset) = Open(path);
        if (type != IdxType.UByte || shape.Length != 3)
            throw new IdxFormatException($"'{path}' is not an IDX image file (magic 0x{ImagesMagic:x8} expected, " +
                $"found {Describe(type, shape)})");
        int n = Take(shape[0], limit);
        int pixels = checked(shape[1] * shape[2]);
        var data = new double[checked(n * pixels)];
        // Divide rather than multiply by 1/255 so each value is the correctly rounded byte/255.
        for (int i = 0; i < data.Length; i++) data[i] = payload[offset + i] / 255.0;
        return (data, [n, shape[1], shape[2]]);
    }

    /// <summary>
    /// Labels (magic 0x00000801) as ints; at most <paramref name="limit"/>, the first ones in the file.
    /// </summary>
    public static int[] ReadLabels(string path, int? limit = null)
    {
        var (type, shape, payload, offset) = Open(path);
        if (type != IdxType.UByte || shape.Length != 1)
            throw new IdxFormatException($"'{path}' is not an IDX label file (magic 0x{LabelsMagic:x8} expected, " +
                $"found {Describe(type, shape)})");
        int n = Take(shape[0], limit);
        var labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = payload[offset + i];
        return labels;
    }

    /// <summary>
    /// An images file and its labels file (e.g. <c>train-images-idx3-ubyte.gz</c>,
    /// <c>train-labels-idx1-ubyte.gz</c>); the counts must agree. <paramref name="limit"/> keeps the
    /// first examples (all of them when the file holds fewer), so a run's subset depends only on the files.
    /// </summary>
    public static MnistData LoadMnist(string imagesPath, string labelsPath, int? limit = null)
    {
        if (limit is < 0) throw new ArgumentOutOfRangeException(nameof(limit), limit, "limit must be ≥ 0");
        // Check the counts from both headers before trimming, so a mismatched pair is refused
        // even when the limit would hide it.
        int nImages = HeaderCount(imagesPath), nLabels = HeaderCount(labelsPath);
        if (nImages != nLabels)
            throw new IdxFormatException(
                $"'{imagesPath}' holds {nImages} images but '{labelsPath}' holds {nLabels} labels");
        var (data, shape) = ReadImages(imagesPath, limit);
        var labels = ReadLabels(labelsPath, limit);
        return new MnistData(data, shape[0], shape[1], shape[2], labels);
    }

    /// <summary>
    /// Writes an IDX file (gzipped when <paramref name="gzip"/>); values are converted to the element type
    /// and must be representable in it (integers in range, no NaN for integer types). Atomic: written to a
    /// temporary file, then moved into place.
    /// </summary>
    public static void Write(string path, IdxType type, int[] shape, ReadOnlySpan<double> data, bool gzip = false)
    {
        if (shape.Length is 0 or > 255)
            throw new ArgumentException($"IDX needs 1 to 255 dims, got {shape.Length}", nameof(shape));
        if (shape.Any(d => d < 0))
            throw new ArgumentException($"negative dim in ({string.Join(", ", shape)})", nameof(shape));
        long count = Product(shape);
        if (count != data.Length) throw new ArgumentException(
            $"shape ({string.Join(", ", shape)}) needs {count} values, got {data.Length}", nameof(data));
        int size = ElementSize(type);
        var bytes = new byte[checked(4 + 4 * shape.Length + (int)count * size)];
        bytes[2] = (byte)type;
        bytes[3] = (byte)shape.Length;
        for (int d = 0; d < shape.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), shape[d]);
        int off = 4 + 4 * shape.Length;
        for (int i = 0; i < data.Length; i++)
        {
            var s = bytes.AsSpan(off + i * size, size);
            double x = data[i];
            if (type is not (IdxType.Single or IdxType.Double))
            {
                var (lo, hi) = type switch
                {
                    IdxType.UByte => (byte.MinValue, byte.MaxValue),
                    IdxType.SByte => (sbyte.MinValue, sbyte.MaxValue),
                    IdxType.Int16 => (short.MinValue, short.MaxValue),
                    _ => ((double)int.MinValue, (double)int.MaxValue),
                };
                if (!(x >= lo && x <= hi) || x != Math.Floor(x))
                    throw new ArgumentException($"value {x} at index {i} is not representable as {type}", nameof(data));
            }
            switch (type)
            {
                case IdxType.UByte: s[0] = (byte)x; break;
                case IdxType.SByte: s[0] = (byte)(sbyte)x; break;
                case IdxType.Int16: BinaryPrimitives.WriteInt16BigEndian(s, (short)x); break;
                case IdxType.Int32: BinaryPrimitives.WriteInt32BigEndian(s, (int)x); break;
                case IdxType.Single: BinaryPrimitives.WriteSingleBigEndian(s, (float)x); break;
                default: BinaryPrimitives.WriteDoubleBigEndian(s, x); break;
            }
        }
        if (gzip)
        {
            using var ms = new MemoryStream();
            using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(bytes);
            bytes = ms.ToArray();
        }
        string tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
    }

    public static int ElementSize(IdxType type) => type switch
    {
        IdxType.UByte or IdxType.SByte => 1,
        IdxType.Int16 => 2,
        IdxType.Int32 or IdxType.Single => 4,
        IdxType.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not an IDX element type"),
    };

    // ---- internals -------------------------------------------------------------------------

    private static (IdxType Type, int[] Shape, byte[] Payload, int Offset) Open(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
            or NotSupportedException)
        {
            throw new IdxFormatException($"cannot read '{path}': {OneLine(e.Message)}");
        }
        bytes = Decompress(bytes, path);
        var (type, shape, offset) = Header(bytes, path);
        return (type, shape, bytes, offset);
    }

    private static int HeaderCount(string path) => Open(path).Shape[0];

    private static byte[] Decompress(byte[] bytes, string name)
    {
        if (bytes.Length < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) return bytes;
        try
        {
            using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            gz.CopyTo(ms);
            return ms.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new IdxFormatException($"'{name}': corrupt or truncated gzip data ({OneLine(e.Message)})");
        }
    }

    /// <summary>Validates magic, dims and payload length; returns where the payload starts.</summary>
    private static (IdxType Type, int[] Shape, int Offset) Header(byte[] bytes, string name) =>
        Header(bytes, name, bytes.Length);

    /// <summary>
    /// The type and shape of an IDX file from its first bytes only (a sweep checks its data before any run
    /// starts without reading 47 MB per file). A plain file's length is checked against the shape too; a
    /// gzipped one's payload is checked when a run reads it.
    /// </summary>
    public static (IdxType Type, int[] Shape) ReadHeader(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            bool gzip = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
            file.Position = 0;
            using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
            var head = new byte[4 + 4 * 255];   // the magic and at most 255 dims
            int got = 0;
            for (int n; got < head.Length && (n = stream.Read(head, got, head.Length - got)) > 0; ) got += n;
            int need = got >= 4 ? 4 + 4 * head[3] : 4;
            var bytes = head.AsSpan(0, Math.Min(got, need)).ToArray();
            var (type, shape, _) = Header(bytes, path, gzip ? -1 : file.Length);
            return (type, shape);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException
            or NotSupportedException or InvalidDataException)
        {
            throw new IdxFormatException($"cannot read '{path}': {OneLine(e.Message)}");
        }
    }

    /// <summary><paramref name="fileLength"/>: the whole (decompressed) file's length, checked against the
    /// shape; -1 when unknown.</summary>
    private static (IdxType Type, int[] Shape, int Offset) Header(byte[] bytes, string name, long fileLength)
    {
        if (bytes.Length < 4) throw new IdxFormatException(
            $"'{name}': truncated IDX file ({bytes.Length} bytes, the magic number alone needs 4)");
        var type = (IdxType)bytes[2];
        int dims = bytes[3];
        if (bytes[0] != 0 || bytes[1] != 0 || !Enum.IsDefined(type) || dims == 0)
            throw new IdxFormatException(
                $"'{name}' is not an IDX file (bad magic 0x{BinaryPrimitives.ReadUInt32BigEndian(bytes):x8})");
        int offset = 4 + 4 * dims;
        if (bytes.Length < offset)
            throw new IdxFormatException(
                $"'{name}': truncated IDX header ({bytes.Length} bytes, {dims} dims need {offset})");
        var shape = new int[dims];
        for (int d = 0; d < dims; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (shape[d] < 0) throw new IdxFormatException($"'{name}': negative dim {shape[d]} in the IDX header");
        }
        // long arithmetic: a corrupt header can claim more than 2^63 / 8 elements only with > 2 dims of
        // 2^31, so saturate instead of overflowing.
        long count = Product(shape);
        long need = count > (long.MaxValue - offset) / 8 ? long.MaxValue : count * ElementSize(type);
        long have = fileLength - offset;
        if (fileLength >= 0 && need != have)
            throw new IdxFormatException(
                $"'{name}': dims {string.Join('x', shape)} of {type} need {need} payload bytes " +
                $"but the file has {have}" +
                (have < need ? " (truncated file?)" : " (wrong dims or trailing data)"));
        return (type, shape, offset);
    }

    private static double[] Convert(IdxType type, byte[] bytes, int offset, int count)
    {
        var data = new double[count];
        var span = bytes.AsSpan(offset);
        switch (type)
        {
            case IdxType.UByte: for (int i = 0; i < count; i++) data[i] = span[i]; break;
            case IdxType.SByte: for (int i = 0; i < count; i++) data[i] = (sbyte)span[i]; break;
            case IdxType.Int16:
                for (int i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadInt16BigEndian(span[(2 * i)..]);
                break;
            case IdxType.Int32:
                for (int i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadInt32BigEndian(span[(4 * i)..]);
                break;
            case IdxType.Single:
                for (int i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadSingleBigEndian(span[(4 * i)..]);
                break;
            default:
                for (int i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadDoubleBigEndian(span[(8 * i)..]);
                break;
        }
        return data;
    }

    private static int Take(int n, int? limit) => limit switch
    {
        null => n,
        < 0 => throw new ArgumentOutOfRangeException(nameof(limit), limit, "limit must be ≥ 0"),
        { } l => Math.Min(n, l),
    };

    private static long Product(int[] shape)
    {
        long p = 1;
        foreach (int d in shape)
        {
            if (d == 0) return 0;
            p = p > long.MaxValue / d ? long.MaxValue : p * d;
        }
        return p;
    }

    private static string Describe(IdxType type, int[] shape) =>
        $"magic 0x{((int)type << 8) | shape.Length:x8}, {type} {string.Join('x', shape)}";

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
