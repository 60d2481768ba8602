using System.IO.Compression;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

/// <summary>
/// IDX files are built byte by byte here from the format description (big-endian, magic
/// 00 00 type dims), independently of <see cref="Idx.Write"/>, and read back.
/// </summary>
public sealed class IdxTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rl-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Header(byte type, params int[] dims)
    {
        var b = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (int d in dims) b.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        return [.. b];
    }

    private static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(bytes);
        return ms.ToArray();
    }

    private string Save(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    // Two 2×3 images with pixel bytes 0, 1, 127, 128, 254, 255, ... and labels 7, 0.
    private static readonly byte[] Pixels = [0, 1, 127, 128, 254, 255, 10, 20, 30, 40, 50, 60];
    private static byte[] ImagesFile(int n = 2) => [.. Header(0x08, n, 2, 3), .. Pixels.Take(n * 6)];
    private static byte[] LabelsFile(params byte[] labels) => [.. Header(0x08, labels.Length), .. labels];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_mnist_images_and_labels_plain_and_gzipped(bool gzip)
    {
        string img = Save("images" + (gzip ? ".gz" : ""), gzip ? Gzip(ImagesFile()) : ImagesFile());
        string lab = Save("labels" + (gzip ? ".gz" : ""), gzip ? Gzip(LabelsFile(7, 0)) : LabelsFile(7, 0));
        var m = Idx.LoadMnist(img, lab);
        Assert.Equal([2, 2, 3], m.Shape);
        Assert.Equal([7, 0], m.Labels);
        // Each pixel is exactly byte/255 as a correctly rounded double: 0, 1/255, ..., 1.
        Assert.Equal(Pixels.Select(p => p / 255.0), m.Images);
        Assert.Equal(0.0, m.Images[0]);
        Assert.Equal(1.0, m.Images[5]);
        Assert.Equal(127.0 / 255.0, m.Images[2]);
    }

    [Fact]
    public void Gzip_is_detected_by_magic_not_by_name()
    {
        string img = Save("images-no-suffix", Gzip(ImagesFile()));
        string lab = Save("labels.gz", LabelsFile(7, 0));   // plain despite the name
        var m = Idx.LoadMnist(img, lab);
        Assert.Equal(2, m.Count);
        Assert.Equal(255 / 255.0, m.Images[5]);
    }

    [Fact]
    public void Limit_keeps_the_first_examples()
    {
        string img = Save("i", ImagesFile()), lab = Save("l", LabelsFile(7, 0));
        var one = Idx.LoadMnist(img, lab, limit: 1);
        Assert.Equal(1, one.Count);
        Assert.Equal([7], one.Labels);
        Assert.Equal(Pixels.Take(6).Select(p => p / 255.0), one.Images);
        Assert.Equal(2, Idx.LoadMnist(img, lab, limit: 10).Count);   // more than the file holds: all
        Assert.Equal(0, Idx.LoadMnist(img, lab, limit: 0).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => Idx.LoadMnist(img, lab, limit: -1));
    }

    [Fact]
    public void Reads_every_element_type_big_endian()
    {
        // sbyte: 0xFF = −1, 0x80 = −128, 0x7F = 127.
        var sb = Idx.Parse([.. Header(0x09, 3), 0xFF, 0x80, 0x7F]);
        Assert.Equal(IdxType.SByte, sb.Type);
        Assert.Equal([-1.0, -128, 127], sb.Data);
        // short: 0x0102 = 258, 0xFFFE = −2.
        var sh = Idx.Parse([.. Header(0x0B, 2), 0x01, 0x02, 0xFF, 0xFE]);
        Assert.Equal([258.0, -2], sh.Data);
        // int: 0x01020304 = 16909060, 0x80000000 = int.MinValue.
        var i4 = Idx.Parse([.. Header(0x0C, 1, 2), 0x01, 0x02, 0x03, 0x04, 0x80, 0, 0, 0]);
        Assert.Equal([1, 2], i4.Shape);
        Assert.Equal([16909060.0, int.MinValue], i4.Data);
        // float: 0x3FC00000 = 1.5, 0xC0000000 = −2.
        var f4 = Idx.Parse([.. Header(0x0D, 2), 0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0]);
        Assert.Equal([1.5, -2.0], f4.Data);
        // double: 0x400921FB54442D18 = π.
        var f8 = Idx.Parse([.. Header(0x0E, 1, 1, 1), 0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18]);
        Assert.Equal([1, 1, 1], f8.Shape);
        Assert.Equal(Math.PI, f8.Data[0]);
        // ubyte with 4 dims and a zero dim: empty payload is consistent.
        var empty = Idx.Parse(Header(0x08, 2, 0, 3, 1));
        Assert.Empty(empty.Data);
    }

    [Theory]
    [InlineData(IdxType.UByte)]
    [InlineData(IdxType.SByte)]
    [InlineData(IdxType.Int16)]
    [InlineData(IdxType.Int32)]
    [InlineData(IdxType.Single)]
    [InlineData(IdxType.Double)]
    public void Writer_round_trips_and_matches_the_hand_layout(IdxType type)
    {
        double[] data = type switch
        {
            IdxType.UByte => [0, 1, 200, 255, 3, 4],
            IdxType.SByte => [-128, -1, 0, 1, 127, 5],
            IdxType.Int16 => [-32768, -2, 0, 258, 32767, 9],
            IdxType.Int32 => [int.MinValue, -2, 0, 16909060, int.MaxValue, 9],
            IdxType.Single => [1.5, -2, 0.25, float.MaxValue, -0.0, 1e-3f],
            _ => [Math.PI, -1e300, double.Epsilon, 0, -0.0, 1.0 / 3],
        };
        foreach (bool gz in new[] { false, true })
        {
            string path = Path.Combine(_dir, $"w-{type}-{gz}");
            Idx.Write(path, type, [3, 2], data, gzip: gz);
            var raw = File.ReadAllBytes(path);
            Assert.Equal(gz, raw[0] == 0x1f && raw[1] == 0x8b);
            var a = Idx.Read(path);
            Assert.Equal(type, a.Type);
            Assert.Equal([3, 2], a.Shape);
            Assert.Equal(data.Select(BitConverter.DoubleToInt64Bits), a.Data.Select(BitConverter.DoubleToInt64Bits));
            if (!gz) Assert.Equal(Header((byte)type, 3, 2), raw.Take(12));
        }
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp-*"));
    }

    [Fact]
    public void Writer_refuses_values_the_type_cannot_hold()
    {
        Assert.Throws<ArgumentException>(() => Idx.Write(Path.Combine(_dir, "x"), IdxType.UByte, [1], [256]));
        Assert.Throws<ArgumentException>(() => Idx.Write(Path.Combine(_dir, "x"), IdxType.Int16, [1], [0.5]));
        Assert.Throws<ArgumentException>(() => Idx.Write(Path.Combine(_dir, "x"), IdxType.Int32, [1], [double.NaN]));
        Assert.Throws<ArgumentException>(() => Idx.Write(Path.Combine(_dir, "x"), IdxType.Double, [2], [1.0]));
        Assert.False(File.Exists(Path.Combine(_dir, "x")));
    }

    private static string ErrorOf(Action a)
    {
        var e = Assert.Throws<IdxFormatException>(a);
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public void Truncated_files_are_refused_naming_the_file()
    {
        string tiny = Save("tiny", [0, 0]);
        Assert.Contains("'" + tiny + "'", ErrorOf(() => Idx.Read(tiny)));
        Assert.Contains("truncated", ErrorOf(() => Idx.Read(tiny)));

        string header = Save("half-header", Header(0x08, 2, 2, 3)[..9]);
        Assert.Contains("truncated IDX header", ErrorOf(() => Idx.Read(header)));

        string payload = Save("short-payload", ImagesFile()[..^1]);
        string msg = ErrorOf(() => Idx.ReadImages(payload));
        Assert.Contains(payload, msg);
        Assert.Contains("need 12 payload bytes but the file has 11", msg);
        Assert.Contains("truncated", msg);

        string gz = Save("cut.gz", Gzip(ImagesFile())[..10]);
        Assert.Contains(gz, ErrorOf(() => Idx.Read(gz)));
    }

    [Fact]
    public void Bad_magic_and_inconsistent_dims_are_refused()
    {
        string npy = Save("not-idx", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Assert.Contains("bad magic 0x934e554d", ErrorOf(() => Idx.Read(npy)));
        string type = Save("bad-type", [.. Header(0x0A, 1), 0]);   // 0x0A is not an IDX type
        Assert.Contains("bad magic 0x00000a01", ErrorOf(() => Idx.Read(type)));
        string noDims = Save("no-dims", [0, 0, 8, 0]);
        Assert.Contains("bad magic", ErrorOf(() => Idx.Read(noDims)));

        string extra = Save("extra", [.. ImagesFile(), 99]);
        var msg = ErrorOf(() => Idx.Read(extra));
        Assert.Contains("dims 2x2x3 of UByte need 12 payload bytes but the file has 13", msg);

        string neg = Save("neg", Header(0x08, -1));
        Assert.Contains("negative dim", ErrorOf(() => Idx.Read(neg)));

        // A huge claimed size must be reported, not overflow or allocate.
        string huge = Save("huge", [.. Header(0x0E, int.MaxValue, int.MaxValue, int.MaxValue), 1, 2]);
        Assert.Contains("the file has 2", ErrorOf(() => Idx.Read(huge)));
    }

    [Fact]
    public void Images_and_labels_must_be_the_right_kind_and_agree_in_count()
    {
        string img = Save("i", ImagesFile()), lab = Save("l", LabelsFile(7, 0)), lab3 = Save("l3", LabelsFile(1, 2, 3));
        string mismatch = ErrorOf(() => Idx.LoadMnist(img, lab3, limit: 1));   // refused even under a limit
        Assert.Contains("'" + img + "' holds 2 images but '" + lab3 + "' holds 3 labels", mismatch);
        Assert.Contains("not an IDX label file", ErrorOf(() => Idx.LoadMnist(img, img)));
        Assert.Contains("not an IDX image file", ErrorOf(() => Idx.ReadImages(lab)));
        string f32 = Save("f32", [.. Header(0x0D, 1, 1, 1), 0, 0, 0, 0]);
        Assert.Contains("magic 0x00000803 expected", ErrorOf(() => Idx.ReadImages(f32)));
        string missing = Path.Combine(_dir, "missing");
        Assert.Contains("cannot read '" + missing + "'", ErrorOf(() => Idx.LoadMnist(missing, lab)));
    }
}
