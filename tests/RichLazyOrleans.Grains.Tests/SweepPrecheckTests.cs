using RichLazyOrleans.Engine;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>
/// What can be known before a sweep starts is checked before it starts: a run's memory against the silo's, and
/// the headers of its data files (wrong or unreadable files used to pass, then fail every run).
/// </summary>
public class SweepPrecheckTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("rl-precheck-").FullName;

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private string Out => Path.Combine(_tmp, "out");

    private static SpecException Refused(string yaml, string outDir, long? memory = null) =>
        Assert.Throws<SpecException>(() =>
            SweepRuns.Validate(yaml, KindCatalog.Kinds, "pre", outDir, memory: memory));

    [Fact]
    public void A_run_bigger_than_the_silo_is_refused_with_its_estimate()
    {
        // 20 000² float64 kernels, four of them: ~12 GiB.
        string yaml = "name: pre\nkind: teacher-student\nparams: { delta: 0, n: 20000, d: 10, m: 4, steps: 1 }\n"
            + "axes:\n  tau: { from: 0.1, to: 1 }\ngrid: { initial: [3] }\n";
        var e = Refused(yaml, Out, memory: 8L << 30);
        Assert.Matches(
            @"one teacher-student run needs about 1\d\.\d GiB of memory .* "
            + @"more than the 8\.0 GiB a silo has", e.Message);
        SweepRuns.Validate(yaml, KindCatalog.Kinds, "pre", Out, memory: 64L << 30);
        Assert.False(Directory.Exists(Out));
    }

    private string Cnn(string dataDir) => "name: pre\nkind: cnn-mnist\n"
        + $"params: {{ data_dir: {dataDir}, steps: 1 }}\n"
        + "axes:\n  alpha: { from: 0.1, to: 10, scale: log }\ngrid: { initial: [3] }\n";

    [Fact]
    public void Data_files_are_checked_by_their_headers_before_the_sweep_starts()
    {
        string data = Path.Combine(_tmp, "digits");
        SyntheticDigits.WriteIdx(data, 200, 50, seed: 0);
        SweepRuns.Validate(Cnn(data), KindCatalog.Kinds, "pre", Out);

        // Labels where images should be (swapped names).
        string images = Path.Combine(data, SyntheticDigits.TrainImagesFile);
        string labels = Path.Combine(data, SyntheticDigits.TrainLabelsFile);
        File.Move(images, images + ".keep");
        File.Copy(labels, images);
        Assert.Contains("key 'train_images'", Refused(Cnn(data), Out).Message);
        Assert.Contains("is not an IDX image file", Refused(Cnn(data), Out).Message);
        File.Delete(images);

        // Not an IDX file at all (a run pointed at a text file said "bad magic" only when it ran).
        File.WriteAllText(images, "root:x:0:0:root:/root:/bin/bash\n");
        Assert.Contains("bad magic", Refused(Cnn(data), Out).Message);

        // A truncated file: the header promises more than the file holds.
        var bytes = File.ReadAllBytes(images + ".keep");
        File.WriteAllBytes(images, bytes[..(bytes.Length / 2)]);
        Assert.Contains("truncated", Refused(Cnn(data), Out).Message);

        // Counts that disagree.
        File.Delete(images);
        SyntheticDigits.WriteIdx(Path.Combine(_tmp, "other"), 100, 10, seed: 0);
        File.Copy(Path.Combine(_tmp, "other", SyntheticDigits.TrainImagesFile), images);
        Assert.Contains("holds 200 labels but", Refused(Cnn(data), Out).Message);

        // Unreadable (not as root, who reads anything).
        File.Delete(images);
        File.Move(images + ".keep", images);
        SweepRuns.Validate(Cnn(data), KindCatalog.Kinds, "pre", Out);
        if (!OperatingSystem.IsWindows() && Environment.UserName != "root")
        {
            File.SetUnixFileMode(images, UnixFileMode.None);
            Assert.Contains("cannot read", Refused(Cnn(data), Out).Message);
        }
    }

    [Fact]
    public void The_header_alone_is_read()
    {
        string data = Path.Combine(_tmp, "gz");
        SyntheticDigits.WriteIdx(data, 300, 20, seed: 1, gzip: true);
        var (type, shape) = Idx.ReadHeader(Path.Combine(data, SyntheticDigits.TrainImagesFile + ".gz"));
        Assert.Equal(IdxType.UByte, type);
        Assert.Equal([300, 28, 28], shape);
    }
}
