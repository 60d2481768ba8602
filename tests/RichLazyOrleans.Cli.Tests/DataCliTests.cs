using RichLazyOrleans.Engine;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`richlazy data digits`: the four IDX files, the preview, and bad input.</summary>
public sealed class DataCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rl-data-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Digits_writes_mnist_named_idx_files_and_a_preview()
    {
        string outDir = Path.Combine(_dir, "digits"), preview = Path.Combine(_dir, "look", "preview.png");
        var r = CliProcess.Run("data", "digits", "--out", outDir, "--train", "150", "--test", "30", "--seed", "3",
            "--preview", preview);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("", r.Stderr);
        Assert.Contains("not MNIST", r.Stdout);
        foreach (var name in new[]
        {
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
        })
            Assert.Contains(Path.Combine(outDir, name), r.Stdout);
        Assert.Contains(preview, r.Stdout);

        var train = Idx.LoadMnist(Path.Combine(outDir, "train-images-idx3-ubyte"),
            Path.Combine(outDir, "train-labels-idx1-ubyte"));
        var test = Idx.LoadMnist(Path.Combine(outDir, "t10k-images-idx3-ubyte"),
            Path.Combine(outDir, "t10k-labels-idx1-ubyte"));
        Assert.Equal([150, 28, 28], train.Shape);
        Assert.Equal([30, 28, 28], test.Shape);
        Assert.Equal(SyntheticDigits.Generate(150, 3).Images, train.Images);
        Assert.Equal(SyntheticDigits.GenerateTest(30, 3).Labels, test.Labels);

        // A 10 × 10 tile of the first 100 training images, one-pixel borders: 291 × 291 grey.
        var png = File.ReadAllBytes(preview);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png.Take(8));
        Assert.Equal(291, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(291, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.Equal(0, png[25]);   // colour type 0: grey
    }

    [Fact]
    public void Digits_gzip_appends_gz_and_stays_readable()
    {
        var r = CliProcess.Run("data", "digits", "--out", _dir, "--train", "20", "--test", "10", "--gzip");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(
            [
                "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
            ],
            Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var train = Idx.LoadMnist(Path.Combine(_dir, "train-images-idx3-ubyte.gz"),
            Path.Combine(_dir, "train-labels-idx1-ubyte.gz"));
        Assert.Equal(SyntheticDigits.Generate(20, 0).Labels, train.Labels);
    }

    [Theory]
    [InlineData("--train", "-1", "--train")]
    [InlineData("--test", "2000000", "--test")]
    [InlineData("--seed", "-3", "-3")]
    public void Bad_counts_exit_2_with_one_line(string option, string value, string named)
    {
        var r = CliProcess.Run("data", "digits", "--out", Path.Combine(_dir, "x"), option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Contains(named, Assert.Single(r.Stderr.Trim().Split('\n')));
        Assert.False(Directory.Exists(Path.Combine(_dir, "x")));
    }

    [Fact]
    public void Out_is_required()
    {
        var r = CliProcess.Run("data", "digits", "--train", "5");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--out", r.Stderr);
    }
}
