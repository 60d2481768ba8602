using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

public sealed class SyntheticDigitsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rl-digits-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static double[] Image(MnistData d, int i) =>
        d.Images.AsSpan(i * d.PixelsPerImage, d.PixelsPerImage).ToArray();

    [Fact]
    public void Same_count_and_seed_give_the_same_set_other_seeds_differ()
    {
        var a = SyntheticDigits.Generate(300, 7);
        var b = SyntheticDigits.Generate(300, 7);
        Assert.Equal(a.Images, b.Images);
        Assert.Equal(a.Labels, b.Labels);
        Assert.Equal([300, 28, 28], a.Shape);
        var c = SyntheticDigits.Generate(300, 8);
        Assert.NotEqual(a.Images, c.Images);
        Assert.NotEqual(a.Labels, c.Labels);
    }

    [Fact]
    public void A_smaller_set_is_a_prefix_of_a_larger_one()
    {
        // 300 images run in parallel, 40 sequentially: example i depends only on (seed, i) either way.
        var big = SyntheticDigits.Generate(300, 3);
        var small = SyntheticDigits.Generate(40, 3);
        Assert.Equal(small.Labels, big.Labels.Take(40));
        Assert.Equal(small.Images, big.Images.Take(40 * 784));
        var bigTest = SyntheticDigits.GenerateTest(300, 3);
        Assert.Equal(SyntheticDigits.GenerateTest(40, 3).Images, bigTest.Images.Take(40 * 784));
    }

    [Fact]
    public void Pixels_are_exact_bytes_over_255_with_ink_peaking_at_one()
    {
        var d = SyntheticDigits.Generate(500, 11);
        foreach (double v in d.Images)
        {
            Assert.InRange(v, 0, 1);
            double k = Math.Round(v * 255);
            Assert.Equal(k / 255.0, v);   // bit-identical to what Idx reads back for byte k
        }
        for (int i = 0; i < d.Count; i++)
        {
            var img = Image(d, i);
            Assert.Equal(1.0, img.Max());
            int ink = img.Count(v => v > 0.5);
            Assert.InRange(ink, 20, 300);   // a stroke, not a blob or nothing
        }
        Assert.All(d.Labels, l => Assert.InRange(l, 0, 9));
    }

    [Fact]
    public void Labels_are_roughly_uniform()
    {
        var d = SyntheticDigits.Generate(5000, 2);
        var counts = new int[10];
        foreach (int l in d.Labels) counts[l]++;
        double expected = d.Count / 10.0;
        double chi2 = counts.Sum(c => (c - expected) * (c - expected) / expected);
        // 9 degrees of freedom: P(χ² > 33.7) = 1e-4. Loose on purpose; the labels are fixed by the seed anyway.
        Assert.True(chi2 < 33.7, $"chi-square {chi2:F1} for counts {string.Join(", ", counts)}");
    }

    [Fact]
    public void Digits_are_centred_like_mnist()
    {
        var d = SyntheticDigits.Generate(1000, 5);
        double sumX = 0, sumY = 0, inner = 0, total = 0;
        int touching = 0;
        for (int n = 0; n < d.Count; n++)
        {
            double mass = 0, mx = 0, my = 0;
            bool edge = false;
            for (int i = 0; i < 28; i++)
                for (int j = 0; j < 28; j++)
                {
                    double v = d.Images[n * 784 + i * 28 + j];
                    mass += v; mx += v * (j + 0.5); my += v * (i + 0.5);
                    if (i is >= 4 and < 24 && j is >= 4 and < 24) inner += v;
                    if ((i == 0 || i == 27 || j == 0 || j == 27) && v > 0.5) edge = true;
                }
            total += mass;
            sumX += mx / mass; sumY += my / mass;
            if (edge) touching++;
        }
        // Centre of mass at the image centre (14, 14) on average; most ink in the middle 20 × 20.
        Assert.InRange(sumX / d.Count, 13.5, 14.5);
        Assert.InRange(sumY / d.Count, 13.5, 14.5);
        Assert.True(inner / total > 0.9, $"only {inner / total:P1} of the ink in the middle 20x20");
        Assert.True(touching <= d.Count / 100, $"{touching} of {d.Count} digits have strong ink on the border");
    }

    [Fact]
    public void Other_sizes_scale_the_digit()
    {
        var d = SyntheticDigits.Generate(20, 1, size: 16);
        Assert.Equal([20, 16, 16], d.Shape);
        Assert.Equal(SyntheticDigits.Generate(20, 1).Labels, d.Labels);
        Assert.All(Enumerable.Range(0, 20), i => Assert.Equal(1.0, Image(d, i).Max()));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticDigits.Generate(1, 1, size: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticDigits.Generate(-1, 1));
        Assert.Empty(SyntheticDigits.Generate(0, 1).Images);
    }

    [Fact]
    public void Images_of_one_class_vary()
    {
        var d = SyntheticDigits.Generate(400, 9);
        for (int c = 0; c < 10; c++)
        {
            var members = Enumerable.Range(0, d.Count).Where(i => d.Labels[i] == c).Select(i => Image(d, i)).ToList();
            Assert.True(members.Count >= 20, $"class {c}: {members.Count} images");
            // No two identical, and the typical pair differs in many pixels (not just a shifted copy of one template).
            for (int a = 0; a < members.Count; a++)
                for (int b = a + 1; b < members.Count; b++)
                    Assert.False(members[a].SequenceEqual(members[b]), $"class {c}: images {a} and {b} are identical");
            double meanDist = 0;
            for (int a = 1; a < members.Count; a++)
                meanDist += Math.Sqrt(members[a].Zip(members[a - 1], (x, y) => (x - y) * (x - y)).Sum());
            meanDist /= members.Count - 1;
            Assert.True(meanDist > 4, $"class {c}: mean L2 distance between consecutive members {meanDist:F2}");
        }
    }

    [Fact]
    public void Digits_are_distinguishable_by_a_nearest_class_mean_classifier()
    {
        var train = SyntheticDigits.Generate(2000, 1);
        var test = SyntheticDigits.GenerateTest(1000, 1);
        const int p = 784;
        var mean = new double[10 * p];
        var count = new int[10];
        for (int n = 0; n < train.Count; n++)
        {
            count[train.Labels[n]]++;
            for (int k = 0; k < p; k++) mean[train.Labels[n] * p + k] += train.Images[n * p + k];
        }
        for (int c = 0; c < 10; c++)
            for (int k = 0; k < p; k++) mean[c * p + k] /= count[c];
        int correct = 0;
        for (int n = 0; n < test.Count; n++)
        {
            int best = -1;
            double bestDist = double.MaxValue;
            for (int c = 0; c < 10; c++)
            {
                double dist = 0;
                for (int k = 0; k < p; k++) { double e = test.Images[n * p + k] - mean[c * p + k]; dist += e * e; }
                if (dist < bestDist) (bestDist, best) = (dist, c);
            }
            if (best == test.Labels[n]) correct++;
        }
        double accuracy = correct / (double)test.Count;
        // Measured 0.776 with these seeds (0.75-0.79 for seeds 1-5; MNIST itself: about 0.82): far above
        // chance (0.1) but not trivial.
        Assert.True(accuracy > 0.70, $"nearest-class-mean accuracy {accuracy:F3}");
        Assert.True(accuracy < 0.98,
            $"nearest-class-mean accuracy {accuracy:F3}: the digits are too easy (no variation?)");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteIdx_round_trips_exactly_through_LoadMnist(bool gzip)
    {
        SyntheticDigits.WriteIdx(_dir, 120, 50, 4, gzip);
        var paths = SyntheticDigits.Paths(_dir, gzip);
        string ext = gzip ? ".gz" : "";
        Assert.Equal(
            new[] { "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte" }.Select(n => n + ext),
            Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        if (gzip) Assert.Equal([0x1f, 0x8b], File.ReadAllBytes(paths.TrainImages).Take(2));
        else Assert.Equal(16 + 120 * 784, new FileInfo(paths.TrainImages).Length);

        var train = Idx.LoadMnist(paths.TrainImages, paths.TrainLabels);
        var test = Idx.LoadMnist(paths.TestImages, paths.TestLabels);
        var expectTrain = SyntheticDigits.Generate(120, 4);
        var expectTest = SyntheticDigits.GenerateTest(50, 4);
        Assert.Equal(expectTrain.Shape, train.Shape);
        Assert.Equal(expectTrain.Images, train.Images);
        Assert.Equal(expectTrain.Labels, train.Labels);
        Assert.Equal(expectTest.Shape, test.Shape);
        Assert.Equal(expectTest.Images, test.Images);
        Assert.Equal(expectTest.Labels, test.Labels);
    }

    [Fact]
    public void Test_set_does_not_repeat_training_images()
    {
        var train = SyntheticDigits.Generate(500, 6);
        var test = SyntheticDigits.GenerateTest(500, 6);
        var seen = Enumerable.Range(0, train.Count).Select(i =>
            Convert.ToBase64String(Image(train, i).Select(v => (byte)Math.Round(v * 255)).ToArray())).ToHashSet();
        for (int i = 0; i < test.Count; i++)
            Assert.DoesNotContain(
                Convert.ToBase64String(Image(test, i).Select(v => (byte)Math.Round(v * 255)).ToArray()), seen);
        Assert.NotEqual(train.Labels.Take(100), test.Labels.Take(100));
    }

    [Fact]
    public void Tile_lays_out_the_first_images_with_borders()
    {
        var d = SyntheticDigits.Generate(13, 1);
        var (px, width, height) = SyntheticDigits.Tile(d, columns: 5, rows: 5);
        Assert.Equal((5 * 29 + 1, 3 * 29 + 1), (width, height));
        // Image 7 sits in row 1, column 2; its pixel (10, 20) is at (1 + 2·29 + 20, 1 + 29 + 10).
        Assert.Equal((byte)Math.Round(255 * d.Images[7 * 784 + 10 * 28 + 20]),
            px[(1 + 29 + 10) * width + 1 + 2 * 29 + 20]);
        var (_, w1, h1) = SyntheticDigits.Tile(SyntheticDigits.Generate(3, 1));
        Assert.Equal((3 * 29 + 1, 29 + 1), (w1, h1));
    }

    [Fact]
    public void Generation_speed_is_reasonable()
    {
        SyntheticDigits.Generate(50, 0);   // warm-up (JIT)
        var sw = System.Diagnostics.Stopwatch.StartNew();
        SyntheticDigits.Generate(2000, 0);
        double perSecond = 2000 / sw.Elapsed.TotalSeconds;
        // Measured several thousand per second per core; 60 000 training images must take seconds, not minutes.
        Assert.True(perSecond > 500, $"{perSecond:F0} images/s");
    }
}
