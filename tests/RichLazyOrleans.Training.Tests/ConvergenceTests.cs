using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

/// <summary>The early-stopping rule's arithmetic (<see cref="ConvergenceMonitor"/>) on hand-derived cases.</summary>
public class ConvergenceTests
{
    private static readonly string[] Names = ["m"];

    /// <summary>Tells the monitor u_s = ρ^s and m_s = m∞ + C·ρ^s at s = h, 2h, …, upTo.</summary>
    private static ConvergenceMonitor Geometric(ConvergenceRule rule, double rho, double mInf, double c, long upTo)
    {
        var monitor = new ConvergenceMonitor(rule, Names);
        for (long s = rule.CheckEvery; s <= upTo; s += rule.CheckEvery)
            monitor.Tell(s, Math.Pow(rho, s), [mInf + c * Math.Pow(rho, s)]);
        return monitor;
    }

    [Theory]
    [InlineData(0.99, 100, 1000, 5000)]
    [InlineData(0.9999, 1000, 3000, 100000)]
    [InlineData(1 - 1e-9, 10, 30, 1000)]
    public void On_an_exactly_geometric_tail_the_predicted_change_is_the_true_remaining_change(
        double rho, long h, long step, long final)
    {
        // A metric linear in the path length along a geometric tail changes by C(ρ^c − ρ^N) from c to N, the
        // remaining path over the last window's path times that window's change: the model is exact here.
        var monitor = Geometric(new ConvergenceRule(1e-3, 1e-300, h, Safety: 1), rho, 2.0, 1.0, step);
        double ratio = monitor.PathRatio(step, final, out double rate)!.Value;
        Assert.Equal(rho, rate, 1e-9);
        double predicted = ratio * (Math.Pow(rho, step - h) - Math.Pow(rho, step));
        double truth = Math.Pow(rho, step) - Math.Pow(rho, final);
        Assert.Equal(1, predicted / truth, 1e-6);
    }

    [Fact]
    public void Stops_exactly_when_the_predicted_change_falls_within_tolerance()
    {
        // ρ = 0.999, h = 100, N = 100 000, C = 1, m∞ = 1: the true remaining change at c is ρ^c (ρ^N ≈ 0), the rule
        // with safety 2 stops at the first multiple of h where 2ρ^c ≤ 1e-6·(1 + ρ^c), i.e. c ≥ 14 502: at 14 600.
        var rule = new ConvergenceRule(1e-6, 1e-300, 100);
        long stop = -1;
        var monitor = new ConvergenceMonitor(rule, Names);
        for (long s = 100; s <= 100_000 && stop < 0; s += 100)
        {
            monitor.Tell(s, Math.Pow(0.999, s), [1 + Math.Pow(0.999, s)]);
            if (monitor.Converged(s, 100_000, out _)) stop = s;
        }
        long expected = (long)Math.Ceiling(Math.Log(1e-6 / (2 - 1e-6)) / Math.Log(0.999) / 100) * 100;
        Assert.Equal(14_600, expected);
        Assert.Equal(expected, stop);
    }

    [Fact]
    public void Growing_updates_unsteady_rates_and_too_few_samples_are_not_converged()
    {
        var rule = new ConvergenceRule(1e-3, 1e-9, 10);
        Assert.False(Geometric(rule, 0.5, 1, 0, 20).Converged(20, 1000, out string why));   // two samples only
        Assert.Contains("fewer than three", why);
        Assert.False(Geometric(rule, 1.001, 1, 0, 100).Converged(100, 1000, out why));    // growing
        Assert.Contains("not contracting", why);

        // Rates 10× apart over the two windows (a dip into a plateau): not a steady contraction.
        var monitor = new ConvergenceMonitor(rule, Names);
        monitor.Tell(10, 1, [1]);
        monitor.Tell(20, 0.9, [1]);
        monitor.Tell(30, 0.9 * Math.Pow(0.9, 10), [1]);
        Assert.False(monitor.Converged(30, 1000, out why));
        Assert.Contains("not contracting", why);

        // An exactly stationary point (zero update) is converged whatever the rates before it.
        monitor.Tell(40, 0, [1]);
        Assert.True(monitor.Converged(40, 1000, out _));
    }

    [Fact]
    public void The_absolute_floor_lets_metrics_that_go_to_zero_converge()
    {
        var rule = new ConvergenceRule(1e-5, 1e-9, 100);
        // m_s = ρ^s → 0: relative tolerance alone never holds (the change is the value itself).
        var monitor = Geometric(rule, 0.99, 0, 1, 3000);
        Assert.True(monitor.Converged(3000, 10_000, out _));          // 2·ρ^3000 ≈ 1e-13 ≤ 1e-9
        Assert.False(Geometric(rule, 0.99, 0, 1, 1000).Converged(1000, 10_000, out string why));   // 2·4e-5 > 1e-9
        Assert.Contains("m ", why);
    }

    [Fact]
    public void A_restored_monitor_decides_like_the_original()
    {
        var rule = new ConvergenceRule(1e-4, 1e-12, 50);
        var original = Geometric(rule, 0.995, 3, -2, 400);
        var restored = new ConvergenceMonitor(rule, Names);
        restored.Restore(original.Save());
        Assert.Equal(original.Save(), restored.Save());
        for (long s = 450; s <= 3000; s += 50)
        {
            double[] m = [3 - 2 * Math.Pow(0.995, s)];
            original.Tell(s, Math.Pow(0.995, s), m);
            restored.Tell(s, Math.Pow(0.995, s), m);
            Assert.Equal(original.Converged(s, 10_000, out string a), restored.Converged(s, 10_000, out string b));
            Assert.Equal(a, b);
        }
        Assert.Throws<InvalidOperationException>(() => restored.Restore([1, 50, 0.1, 0, 1]));   // truncated
    }
}
