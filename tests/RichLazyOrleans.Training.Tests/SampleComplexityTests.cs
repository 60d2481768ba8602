using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

public class SampleComplexityTests
{
    private static readonly (double, double)[] Curve = [(100, 0.2), (1000, 0.5), (10_000, 0.9), (100_000, 0.99)];

    [Fact]
    public void Smallest_size_reaching_the_target_and_log_interpolation()
    {
        // Target 0.7 lies halfway between 0.5 (P = 10³) and 0.9 (P = 10⁴): log10 P* = 3.5.
        var r = SampleComplexity.Find(Curve, 0.7);
        Assert.Equal(10_000, r.Smallest);
        Assert.Equal(Math.Pow(10, 3.5), r.Interpolated!.Value, 1e-9);
        // 0.6: a quarter of the way: 10^3.25.
        Assert.Equal(Math.Pow(10, 3.25), SampleComplexity.Find(Curve, 0.6).Interpolated!.Value, 1e-9);
        // Exactly on a grid value: that size, both ways.
        var exact = SampleComplexity.Find(Curve, 0.9);
        Assert.Equal(10_000, exact.Smallest);
        Assert.Equal(10_000, exact.Interpolated!.Value, 1e-9);
        // Non-decade grid: (50, 0.1), (200, 0.7); target 0.4 → midway in log: √(50·200) = 100.
        Assert.Equal(100, SampleComplexity.Find([(200, 0.7), (50, 0.1)], 0.4).Interpolated!.Value, 1e-9);
    }

    [Fact]
    public void Edge_cases_first_point_none_and_noisy_curves()
    {
        var first = SampleComplexity.Find(Curve, 0.1);   // already reached at the smallest size
        Assert.Equal(100, first.Smallest);
        Assert.Equal(100, first.Interpolated);
        var none = SampleComplexity.Find(Curve, 0.995);
        Assert.Null(none.Smallest);
        Assert.Null(none.Interpolated);
        // Unsorted input and a dip after the first crossing: the first crossing counts.
        (double, double)[] noisy = [(1000, 0.8), (10, 0.1), (100, 0.3), (10_000, 0.75)];
        var r = SampleComplexity.Find(noisy, 0.75);
        Assert.Equal(1000, r.Smallest);
        // 0.75 between 0.3 (100) and 0.8 (1000): fraction 0.9, log10 P = 2.9.
        Assert.Equal(Math.Pow(10, 2.9), r.Interpolated!.Value, 1e-9);
    }

    [Fact]
    public void Bad_tables_are_refused()
    {
        Assert.Throws<ArgumentException>(() => SampleComplexity.Find([], 0.5));
        Assert.Throws<ArgumentException>(() => SampleComplexity.Find([(0, 0.5)], 0.5));
        Assert.Throws<ArgumentException>(() => SampleComplexity.Find([(10, double.NaN)], 0.5));
        Assert.Throws<ArgumentException>(() => SampleComplexity.Find([(10, 0.1), (10, 0.2)], 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleComplexity.Find(Curve, double.NaN));
    }

    [Fact]
    public void Geometric_grid()
    {
        Assert.Equal([10L, 100, 1000], SampleComplexity.GeometricGrid(10, 1000, 3));
        Assert.Equal([16L, 32, 64, 128], SampleComplexity.GeometricGrid(16, 128, 4));
        // 1..4 in 6 points: 1, 1.32, 1.74, 2.30, 3.03, 4 → rounded 1, 1, 2, 2, 3, 4 → distinct 1, 2, 3, 4.
        Assert.Equal([1L, 2, 3, 4], SampleComplexity.GeometricGrid(1, 4, 6));
        Assert.Equal([7L], SampleComplexity.GeometricGrid(7, 7, 1));
        Assert.Throws<ArgumentException>(() => SampleComplexity.GeometricGrid(0, 10, 3));
        Assert.Throws<ArgumentException>(() => SampleComplexity.GeometricGrid(5, 10, 1));
    }
}
