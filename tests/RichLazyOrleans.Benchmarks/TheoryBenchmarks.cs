using BenchmarkDotNet.Attributes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Benchmarks;

/// <summary>Fixed problems shared by the benchmarks and the accuracy report.</summary>
public static class Problems
{
    public const double Time = 8.0;   // mid-transient for both problems (loss still moving)

    public static (double[] Beta, double A0, double[] W0) SingleNeuron()
    {
        var r = new Random(11);
        var beta = Enumerable.Range(0, 10).Select(_ => r.NextDouble() - 0.5).ToArray();
        var w0 = Enumerable.Range(0, 10).Select(_ => 0.01 * (r.NextDouble() - 0.5)).ToArray();
        return (beta, 0.02, w0);
    }

    /// <summary>d = c = 10, h = 5, λ = 0.5 balanced: W₂ = O(λI + W₁W₁ᵀ)^{1/2}.</summary>
    public static (Matrix Sigma, Matrix W1, Matrix W2) TwoLayer()
    {
        var r = new Random(12);
        int d = 10, c = 10, h = 5;
        Matrix Rand(int m, int n, double s) =>
            new(m, n, Enumerable.Range(0, m * n).Select(_ => s * (r.NextDouble() - 0.5)).ToArray());
        var sigma = Rand(c, d, 1.0);
        var w1 = Rand(h, d, 0.02);
        var m = 0.5 * Matrix.Identity(h) + w1.TimesTranspose();
        var o = new SymmetricEigen(Rand(c, c, 1.0) + Rand(c, c, 1.0).Transpose()).Vectors.Block(0, 0, c, h);
        var w2 = o * new SymmetricEigen(m).Apply(Math.Sqrt);
        return (sigma, w1, w2);
    }
}

[MemoryDiagnoser]
public class SingleNeuronBenchmarks
{
    private double[] _beta = [], _w0 = [];
    private double _a0;
    private SingleNeuronExact _exact = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_beta, _a0, _w0) = Problems.SingleNeuron();
        _exact = new SingleNeuronExact(_beta, _a0, _w0);
    }

    [Benchmark(Baseline = true, Description = "exact: one time point")]
    public double Exact() => _exact.At(Problems.Time).Loss;

    [Benchmark(Description = "numeric DP45 rtol 1e-14: 0 -> t")]
    public double NumericTightest() => new SingleNeuronNumeric(_beta, _a0, _w0)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-14, AbsoluteTolerance = 1e-22 } }
        .Solve([Problems.Time])[0].Loss;

    [Benchmark(Description = "numeric DP45 rtol 1e-13: 0 -> t")]
    public double NumericEqual() => new SingleNeuronNumeric(_beta, _a0, _w0)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-13, AbsoluteTolerance = 1e-21 } }
        .Solve([Problems.Time])[0].Loss;

    [Benchmark(Description = "numeric DP45 rtol 1e-12: 0 -> t")]
    public double NumericTight() => new SingleNeuronNumeric(_beta, _a0, _w0)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-12, AbsoluteTolerance = 1e-20 } }
        .Solve([Problems.Time])[0].Loss;

    [Benchmark(Description = "numeric DP45 rtol 1e-8: 0 -> t")]
    public double NumericLoose() => new SingleNeuronNumeric(_beta, _a0, _w0)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-16 } }
        .Solve([Problems.Time])[0].Loss;
}

[MemoryDiagnoser]
public class TwoLayerLinearBenchmarks
{
    private Matrix _sigma = null!, _w1 = null!, _w2 = null!;
    private TwoLayerLinearExact _exact = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_sigma, _w1, _w2) = Problems.TwoLayer();
        _exact = new TwoLayerLinearExact(_sigma, _w1, _w2);
    }

    [Benchmark(Baseline = true, Description = "exact: one time point")]
    public double Exact() => _exact.At(Problems.Time).Loss;

    [Benchmark(Description = "exact: set-up (eigendecomposition of A)")]
    public double ExactSetup() => new TwoLayerLinearExact(_sigma, _w1, _w2).Lambda;

    [Benchmark(Description = "numeric DP45 rtol 1e-13: 0 -> t")]
    public double NumericEqual() => new TwoLayerLinearNumeric(_sigma, _w1, _w2)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-13, AbsoluteTolerance = 1e-21 } }
        .Solve([Problems.Time])[0].Loss;

    [Benchmark(Description = "numeric DP45 rtol 1e-12: 0 -> t")]
    public double NumericTight() => new TwoLayerLinearNumeric(_sigma, _w1, _w2)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-12, AbsoluteTolerance = 1e-20 } }
        .Solve([Problems.Time])[0].Loss;

    [Benchmark(Description = "numeric DP45 rtol 1e-8: 0 -> t")]
    public double NumericLoose() => new TwoLayerLinearNumeric(_sigma, _w1, _w2)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-8, AbsoluteTolerance = 1e-16 } }
        .Solve([Problems.Time])[0].Loss;
}
