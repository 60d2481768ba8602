using System.Text;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

public class NpyTests
{
    [Fact]
    public void Round_trip_preserves_shape_and_bits()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rl-{Guid.NewGuid():N}.npy");
        double[] data = [1.5, -0.0, double.Epsilon, 1e300, Math.PI, -2];
        Npy.Write(path, [2, 3], data);
        var a = Npy.Read(path);
        Assert.Equal([2L, 3L], a.Shape);
        Assert.Equal(data.Select(BitConverter.DoubleToInt64Bits), a.Data.Select(BitConverter.DoubleToInt64Bits));
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0, (bytes.Length - 6 * 8) % 64);   // data 64-byte aligned, as numpy writes
    }

    /// <summary>Bytes laid out exactly as numpy.save writes them (v1.0, '&lt;f4' and '&lt;i8' here).</summary>
    private static byte[] NumpyFile(string descr, string shape, byte[] payload, int version = 1, bool fortran = false)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";
        int pre = version == 1 ? 10 : 12;
        int pad = (64 - (pre + dict.Length + 1) % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0]);
        if (version == 1) ms.Write(BitConverter.GetBytes((ushort)header.Length));
        else ms.Write(BitConverter.GetBytes((uint)header.Length));
        ms.Write(Encoding.ASCII.GetBytes(header));
        ms.Write(payload);
        return ms.ToArray();
    }

    [Fact]
    public void Reads_float32_int64_and_version_2_files()
    {
        var f32 = Npy.Parse(NumpyFile("<f4", "(3,)",
            [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f), .. BitConverter.GetBytes(0.25f)]));
        Assert.Equal([1.5, -2, 0.25], f32.Data);
        var i8 = Npy.Parse(
            NumpyFile("<i8", "(2, 1)", [.. BitConverter.GetBytes(7L), .. BitConverter.GetBytes(-3L)], version: 2));
        Assert.Equal([2L, 1L], i8.Shape);
        Assert.Equal([7.0, -3.0], i8.Data);
        var be = Npy.Parse(NumpyFile(">f8", "(1,)", BitConverter.GetBytes(2.5).Reverse().ToArray()));
        Assert.Equal(2.5, be.Data[0]);
    }

    [Fact]
    public void Refuses_fortran_order_truncated_data_and_non_npy_files_naming_the_file()
    {
        var fortran = NumpyFile("<f8", "(1, 1)", BitConverter.GetBytes(1.0), fortran: true);
        Assert.Contains("Fortran", Assert.Throws<NpyFormatException>(() => Npy.Parse(fortran, "x.npy")).Message);
        Assert.Contains("truncated",
            Assert.Throws<NpyFormatException>(() => Npy.Parse(NumpyFile("<f8", "(4,)", new byte[8]), "x.npy")).Message);
        Assert.Contains("x.npy",
            Assert.Throws<NpyFormatException>(() => Npy.Parse("hello world"u8.ToArray(), "x.npy")).Message);
        Assert.Contains("unsupported dtype", Assert.Throws<NpyFormatException>(() =>
            Npy.Parse(NumpyFile("<c16", "(1,)", new byte[16]), "x.npy")).Message);
    }

    [Fact]
    public void Data_and_init_from_npy_files_replace_the_generated_ones()
    {
        var c = TeacherStudentTests.Small();
        var generated = TeacherStudentData.Create(c);
        string dir = Directory.CreateTempSubdirectory("rl-npy-").FullName;
        string P(string name) => Path.Combine(dir, name);
        Npy.Write(P("x.npy"), [generated.N, generated.D], generated.X);
        Npy.Write(P("y.npy"), [generated.N], generated.Y);
        Npy.Write(P("xt.npy"), [generated.NTest, generated.D], generated.XTest);
        Npy.Write(P("yt.npy"), [generated.NTest], generated.YTest);
        Npy.Write(P("w.npy"), [generated.M, generated.D], generated.W0);
        Npy.Write(P("a.npy"), [generated.M], generated.A0);
        var fromFiles = c with { Seed = 999, Inputs = P("x.npy"), Targets = P("y.npy"), TestInputs = P("xt.npy"),
            TestTargets = P("yt.npy"), InitW = P("w.npy"), InitA = P("a.npy") };
        var loaded = TeacherStudentData.Create(fromFiles);
        Assert.Equal(generated.X, loaded.X);
        Assert.Equal(generated.W0, loaded.W0);
        using var t1 = new TeacherStudentTrainer(c, generated);
        using var t2 = new TeacherStudentTrainer(fromFiles, loaded);
        Assert.Equal(t1.Run(), t2.Run());

        Npy.Write(P("bad.npy"), [generated.M + 1], new double[generated.M + 1]);
        var e = Assert.Throws<SpecException>(() => TeacherStudentData.Create(fromFiles with { InitA = P("bad.npy") }));
        Assert.Equal("init_a", e.Key);
    }
}
