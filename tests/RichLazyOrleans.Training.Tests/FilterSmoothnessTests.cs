using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

public class FilterSmoothnessTests
{
    private static double[] Filter(int h, int w, Func<int, int, double> f)
    {
        var x = new double[h * w];
        for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) x[i * w + j] = f(i, j);
        return x;
    }

    private static double[] RandomFilter(Rng rng, int h, int w) => Filter(h, w, (_, _) => rng.NextGaussian());

    [Fact]
    public void Constant_and_zero_filters_have_no_score()
    {
        // After removing the mean nothing is left: undefined, NaN (not "perfectly smooth").
        Assert.True(double.IsNaN(FilterSmoothness.Score(Filter(5, 5, (_, _) => 0.1), 5, 5)));
        Assert.True(double.IsNaN(FilterSmoothness.Score(Filter(5, 5, (_, _) => -7.3e5), 5, 5)));
        Assert.True(double.IsNaN(FilterSmoothness.Score(new double[25], 5, 5)));
        // A tiny but real variation on a large offset is measured, not called constant.
        var tilted = Filter(6, 6, (i, _) => 1000 + 1e-6 * Math.Cos(2 * Math.PI * i / 6));
        Assert.Equal(1.0, FilterSmoothness.Score(tilted, 6, 6), 9);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(8)]
    public void Lowest_frequency_cosine_scores_one(int k)
    {
        // cos(2πi/k) (plus an offset, which must not matter) puts all energy at (±1, 0):
        // relative radius 2/k ≤ ½ for k ≥ 4.
        var x = Filter(k, k, (i, _) => 3 + Math.Cos(2 * Math.PI * i / k));
        Assert.Equal(1.0, FilterSmoothness.Score(x, k, k), 14);
        var y = Filter(k, k, (_, j) => Math.Sin(2 * Math.PI * j / k));
        Assert.Equal(1.0, FilterSmoothness.Score(y, k, k), 14);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    public void Nyquist_patterns_score_zero(int k)
    {
        var checker = Filter(k, k, (i, j) => (i + j) % 2 == 0 ? 1 : -1);   // (k/2, k/2): r = √2
        Assert.Equal(0.0, FilterSmoothness.Score(checker, k, k), 14);
        var stripes = Filter(k, k, (i, _) => i % 2 == 0 ? 1 : -1);        // (k/2, 0): r = 1
        Assert.Equal(0.0, FilterSmoothness.Score(stripes, k, k), 14);
    }

    [Fact]
    public void Mixture_scores_its_energy_share()
    {
        // x = a·cos(2πi/6) + b·(−1)^(i+j). The two are orthogonal; Σcos² = N/2 and Σ(±1)² = N,
        // so by Parseval the low share is (a²/2)/(a²/2 + b²).
        foreach (var (a, b) in new[] { (1.0, 1.0), (2.0, 0.5), (0.3, 3.0) })
        {
            var x = Filter(6, 6, (i, j) => a * Math.Cos(2 * Math.PI * i / 6) + b * ((i + j) % 2 == 0 ? 1 : -1));
            double truth = a * a / 2 / (a * a / 2 + b * b);
            Assert.Equal(truth, FilterSmoothness.Score(x, 6, 6), 14);
        }
        // (1,1) diagonal on 6×6: r = 2√2/6 ≈ 0.471 ≤ ½ (low); (2,0): r = 2/3 (high). Equal amplitudes:
        // cos(2π(i+j)/6) and cos(2π·2i/6) each have Σ = N/2, so the share is ½.
        var diag = Filter(6, 6, (i, j) => Math.Cos(2 * Math.PI * (i + j) / 6) + Math.Cos(2 * Math.PI * 2 * i / 6));
        Assert.Equal(0.5, FilterSmoothness.Score(diag, 6, 6), 14);
    }

    [Fact]
    public void Dft_matches_hand_values_and_parseval()
    {
        // An impulse has a flat spectrum: |F|² = 1 everywhere.
        var impulse = new double[15];
        impulse[7] = 1;
        Assert.All(FilterSmoothness.PowerSpectrum(impulse, 3, 5), p => Assert.Equal(1.0, p, 15));
        // A constant c on h×w: all energy at DC, |F(0,0)|² = (c·h·w)².
        var c = FilterSmoothness.PowerSpectrum(Filter(3, 5, (_, _) => 2.0), 3, 5);
        Assert.Equal(900.0, c[0], 12);
        Assert.All(c.Skip(1), p => Assert.Equal(0.0, p, 12));
        // cos(2πj/5) on 3×5: F(0, ±1) = N/2 = 7.5, so |F|² = 56.25 there and 0 elsewhere.
        var cos = FilterSmoothness.PowerSpectrum(Filter(3, 5, (_, j) => Math.Cos(2 * Math.PI * j / 5)), 3, 5);
        for (int k = 0; k < 15; k++) Assert.Equal(k is 1 or 4 ? 56.25 : 0.0, cos[k], 12);
        // Parseval: Σ|F|² / N = Σx², on random non-square filters.
        var rng = new Rng(7);
        foreach (var (h, w) in new[] { (3, 5), (4, 4), (7, 2), (1, 6) })
        {
            var x = RandomFilter(rng, h, w);
            double space = x.Sum(v => v * v);
            double freq = FilterSmoothness.PowerSpectrum(x, h, w).Sum() / (h * w);
            Assert.Equal(space, freq, 1e-13 * space);
        }
    }

    [Fact]
    public void Score_is_invariant_to_scale_sign_offset_and_circular_shift()
    {
        var rng = new Rng(11);
        var x = RandomFilter(rng, 5, 5);
        double s = FilterSmoothness.Score(x, 5, 5);
        Assert.InRange(s, 0.0, 1.0);
        foreach (double c in new[] { -1.0, 4.0, -3.7, 1e-100, 1e100 })
            Assert.Equal(s, FilterSmoothness.Score(x.Select(v => c * v).ToArray(), 5, 5), 12);
        Assert.Equal(s, FilterSmoothness.Score(x.Select(v => v + 42).ToArray(), 5, 5), 12);
        // |F| is unchanged by a circular shift.
        var shifted = Filter(5, 5, (i, j) => x[(i + 2) % 5 * 5 + (j + 3) % 5]);
        Assert.Equal(s, FilterSmoothness.Score(shifted, 5, 5), 12);
        // ... but not by an arbitrary permutation: a smooth filter scrambled is rough.
        var smooth = Filter(5, 5, (i, _) => Math.Cos(2 * Math.PI * i / 5));
        var scrambled = Filter(5, 5, (i, j) => smooth[(3 * i) % 5 * 5 + j]);   // cos(6πi/5): the (±2, 0) band
        Assert.Equal(1.0, FilterSmoothness.Score(smooth, 5, 5), 14);
        Assert.Equal(0.0, FilterSmoothness.Score(scrambled, 5, 5), 14);
    }

    [Fact]
    public void Low_band_follows_the_stated_radius()
    {
        // 5×5 at cutoff ½: relative radii 0.4 (axis index 1), 0.566 (1,1), 0.8 (index 2): only the four axis bins.
        Assert.Equal(4, FilterSmoothness.LowFrequencyCount(5, 5));
        Assert.Equal(8, FilterSmoothness.LowFrequencyCount(5, 5, 0.6));
        // 4×4: index 1 sits exactly on r = ½ and counts as low; (1,1) at 0.707 does not.
        Assert.True(FilterSmoothness.IsLow(1, 0, 4, 4));
        Assert.True(FilterSmoothness.IsLow(3, 0, 4, 4));   // signed index −1
        Assert.False(FilterSmoothness.IsLow(1, 1, 4, 4));
        Assert.False(FilterSmoothness.IsLow(0, 0, 4, 4));  // DC never
        Assert.Equal(0.5, FilterSmoothness.RelativeRadius(1, 0, 4, 4), 15);
        Assert.Equal(Math.Sqrt(2), FilterSmoothness.RelativeRadius(2, 2, 4, 4), 15);
        // Non-square 4×8: bin (0,2) is at 2/8 of the width, r = ½, as low as (1,0) at 1/4 of the height.
        Assert.True(FilterSmoothness.IsLow(0, 2, 4, 8));
        Assert.False(FilterSmoothness.IsLow(0, 3, 4, 8));
    }

    [Fact]
    public void Degenerate_cutoffs_are_refused()
    {
        // 3×3 at cutoff ½: the smallest non-DC radius is 2/3, so the score would always be 0.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => FilterSmoothness.Score(new double[9], 3, 3));
        Assert.Contains("use at least 0.667", e.Message);
        Assert.Equal(1.0,
            FilterSmoothness.Score(Filter(3, 3, (i, _) => Math.Cos(2 * Math.PI * i / 3)), 3, 3, cutoff: 0.7), 14);
        Assert.Throws<ArgumentOutOfRangeException>(() => FilterSmoothness.Score(new double[25], 5, 5, cutoff: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            FilterSmoothness.Score(new double[25], 5, 5, cutoff: double.NaN));
        Assert.Throws<ArgumentException>(() => FilterSmoothness.Score(new double[24], 5, 5));
    }

    [Fact]
    public void White_noise_scores_its_chance_level_on_average()
    {
        // An i.i.d. Gaussian filter scores Beta(L/2, (N−1−L)/2): mean L/(N−1), variance
        // μ(1−μ)/((N−1)/2 + 1). For 5×5, L = 4: μ = 1/6, σ² = (5/36)/13.
        const int trials = 4000;
        Assert.Equal(1.0 / 6, FilterSmoothness.WhiteNoiseBaseline(5, 5), 15);
        var rng = new Rng(3);
        var scores = Enumerable.Range(0, trials).Select(_ => FilterSmoothness.Score(RandomFilter(rng, 5, 5), 5, 5))
            .ToArray();
        double mean = scores.Average();
        double var = scores.Select(s => (s - mean) * (s - mean)).Sum() / (trials - 1);
        double sigmaOfMean = Math.Sqrt(5.0 / 36 / 13 / trials);
        Assert.InRange(mean, 1.0 / 6 - 4 * sigmaOfMean, 1.0 / 6 + 4 * sigmaOfMean);
        Assert.InRange(var, 0.85 * 5.0 / 36 / 13, 1.15 * 5.0 / 36 / 13);
    }

    [Fact]
    public void Layer_score_is_the_mean_over_filters_skipping_constant_ones()
    {
        var smooth = Filter(4, 4, (i, _) => Math.Cos(2 * Math.PI * i / 4));
        var rough = Filter(4, 4, (i, j) => (i + j) % 2 == 0 ? 1 : -1);
        var constant = Filter(4, 4, (_, _) => 5);
        double[] layer = [.. smooth, .. rough, .. constant, .. smooth];
        Assert.Equal(2.0 / 3, FilterSmoothness.LayerScore(layer, 4, 4, 4), 14);
        Assert.True(double.IsNaN(FilterSmoothness.LayerScore(constant, 1, 4, 4)));
        Assert.Throws<ArgumentException>(() => FilterSmoothness.LayerScore(layer, 3, 4, 4));
    }
}
