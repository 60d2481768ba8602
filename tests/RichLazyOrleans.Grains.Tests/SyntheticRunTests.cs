using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>The `synthetic` kind's added keys (conic boundaries, seeded noise, spread of run times).</summary>
public class SyntheticRunTests
{
    private static readonly SyntheticRun Kind = new();

    private static JsonObject Spec(double tau, double delta,
        double c0 = 0.2, double c1 = 1.0, double c2 = -0.4, double width = 0.1) =>
        new() { ["tau"] = tau, ["delta"] = delta, ["c0"] = c0, ["c1"] = c1, ["c2"] = c2, ["width"] = width };

    private static double Value(JsonObject spec) => Kind.Run(new Spec(spec))[0]["value"]!.GetValue<double>();

    /// <summary>The formula before the added keys, written out independently.</summary>
    private static double Original(double tau, double delta, double c0, double c1, double c2, double width) =>
        1 / (1 + Math.Exp(-((Math.Log10(tau) - c0 - c1 * delta - c2 * delta * delta) / width)));

    [Fact]
    public void Without_the_added_keys_the_value_is_bit_identical_to_the_original_formula()
    {
        var rng = new Random(11);
        for (int i = 0; i < 500; i++)
        {
            double tau = Math.Pow(10, 6 * rng.NextDouble() - 3), delta = 4 * rng.NextDouble() - 2;
            double c0 = rng.NextDouble() - 0.5, c1 = 2 * rng.NextDouble() - 1, c2 = 2 * rng.NextDouble() - 1;
            double width = 0.01 + rng.NextDouble();
            if (i % 10 == 0) delta = 0;   // the added terms are ±0 here
            double expected = Original(tau, delta, c0, c1, c2, width);
            var spec = Spec(tau, delta, c0, c1, c2, width);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(Value(spec)));
            // The added keys at their defaults, given explicitly, and any seed: still the same bits.
            spec["cx2"] = 0; spec["cxd"] = 0; spec["noise"] = 0; spec["duration_spread"] = 1; spec["seed"] = 1 + i;
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected), BitConverter.DoubleToInt64Bits(Value(spec)));
        }
    }

    [Fact]
    public void Cx2_closes_the_boundary_into_an_ellipse()
    {
        // x + x² + δ² − 0.75 = (x + 0.5)² + δ² − 1: the 0.5 level set is the unit circle around
        // (x, δ) = (−0.5, 0).
        double At(double x, double delta)
        {
            var s = Spec(Math.Pow(10, x), delta, c0: 0.75, c1: 0, c2: -1, width: 0.05);
            s["cx2"] = 1.0;
            return Value(s);
        }
        Assert.True(At(-0.5, 0) < 1e-6, "the centre is inside (value below 0.5)");
        for (int k = 0; k < 16; k++)
        {
            double angle = 2 * Math.PI * k / 16, cx = Math.Cos(angle), cy = Math.Sin(angle);
            Assert.True(At(-0.5 + 0.7 * cx, 0.7 * cy) < 0.5, $"inside at angle {k}");
            Assert.Equal(0.5, At(-0.5 + cx, cy), 9);
            Assert.True(At(-0.5 + 1.3 * cx, 1.3 * cy) > 0.5, $"outside at angle {k}");
        }
    }

    [Fact]
    public void Cxd_makes_a_two_branch_hyperbola()
    {
        // x + x·δ + δ + 1 − 0.01 = (x + 1)(δ + 1) − 0.01: above 0.5 in two opposite quadrants around
        // (−1, −1).
        double At(double x, double delta)
        {
            var s = Spec(Math.Pow(10, x), delta, c0: -0.99, c1: -1, c2: 0, width: 0.01);
            s["cxd"] = 1.0;
            return Value(s);
        }
        Assert.True(At(0, 0) > 0.5 && At(-2, -2) > 0.5);
        Assert.True(At(0, -2) < 0.5 && At(-2, 0) < 0.5);
    }

    private static double Noisy(long seed, double tau, double delta, double noise)
    {
        var s = Spec(tau, delta);
        s["noise"] = noise;
        s["seed"] = seed;
        return Value(s);
    }

    [Fact]
    public void Noise_is_a_function_of_seed_tau_and_delta_and_differs_between_seeds()
    {
        Assert.Equal(Noisy(3, 2.0, 0.25, 0.1), Noisy(3, 2.0, 0.25, 0.1));
        Assert.NotEqual(Noisy(3, 2.0, 0.25, 0.1), Noisy(4, 2.0, 0.25, 0.1));
        Assert.NotEqual(Noisy(3, 2.0, 0.25, 0.1), Noisy(3, 2.0, 0.5, 0.1));
        Assert.NotEqual(Noisy(3, 2.0, 0.25, 0.1), Noisy(3, 2.5, 0.25, 0.1));
        Assert.Equal(Noisy(3, 2.0, 0.0, 0.1), Noisy(3, 2.0, -0.0, 0.1));   // one δ, one draw
    }

    [Fact]
    public void Noise_over_seeds_has_mean_zero_and_standard_deviation_noise()
    {
        const int n = 2000;
        const double noise = 0.2, tau = 2.0, delta = 0.25;
        double clean = Original(tau, delta, 0.2, 1.0, -0.4, 0.1);
        var e = Enumerable.Range(0, n).Select(seed => Noisy(seed, tau, delta, noise) - clean).ToArray();
        double mean = e.Average(), sd = Math.Sqrt(e.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        // 5 standard errors: the mean's is noise/√n, the standard deviation's about noise/√(2n).
        Assert.InRange(mean, -5 * noise / Math.Sqrt(n), 5 * noise / Math.Sqrt(n));
        Assert.InRange(sd, noise * (1 - 5 / Math.Sqrt(2.0 * n)), noise * (1 + 5 / Math.Sqrt(2.0 * n)));
        // Normal, not merely right in two moments: P(|Z| < 1) = 0.6827.
        double within = e.Count(v => Math.Abs(v) < noise) / (double)n;
        double se = Math.Sqrt(0.6827 * 0.3173 / n);
        Assert.InRange(within, 0.6827 - 5 * se, 0.6827 + 5 * se);
    }

    [Fact]
    public void Duration_spread_varies_run_times_deterministically_within_the_spread()
    {
        var u = Enumerable.Range(0, 400).Select(seed => SyntheticRun.SpreadExponent(seed, 2.0, 0.25)).ToArray();
        Assert.Equal(u, Enumerable.Range(0, 400).Select(seed => SyntheticRun.SpreadExponent(seed, 2.0, 0.25)));
        Assert.All(u, x => Assert.InRange(x, -1, 1));
        Assert.True(u.Min() < -0.9 && u.Max() > 0.9, "u should cover [-1, 1]");
        Assert.InRange(u.Average(), -0.15, 0.15);

        const double ms = 40, spread = 2;
        foreach (long seed in Enumerable.Range(0, 400).Where(s => Math.Abs(u[s]) > 0.6).Take(6))
        {
            var s = Spec(2.0, 0.25);
            s["duration_ms"] = ms;
            s["duration_spread"] = spread;
            s["seed"] = seed;
            var clock = Stopwatch.StartNew();
            Kind.Run(new Spec(s));
            double took = clock.Elapsed.TotalMilliseconds;
            // At least its own busy time (never flaky); at most the spread's upper end plus generous slack.
            double busy = ms * Math.Pow(spread, u[seed]);
            Assert.True(took >= busy, $"seed {seed}: {took} ms < {busy} ms");
            Assert.True(took >= ms / spread && took < ms * spread + 500, $"seed {seed}: {took} ms");
        }
    }

    [Theory]
    [InlineData("noise", -0.1)]
    [InlineData("duration_spread", 0.5)]
    [InlineData("seed", -1)]
    [InlineData("seed", 1.5)]
    public void Bad_added_keys_are_refused_naming_the_key(string key, double value)
    {
        var s = Spec(1, 0);
        s[key] = value;
        Assert.Contains($"'{key}'", Assert.Throws<SpecException>(() => Kind.Validate(new Spec(s))).Message);
    }

    [Fact]
    public void The_kind_takes_seeds_and_its_added_numeric_keys_are_axes()
    {
        Assert.True(Kind.HasSeed);
        foreach (var key in new[] { "cx2", "cxd", "noise", "duration_spread" })
            Assert.Contains(key, Kind.AxisParameters);
    }
}
