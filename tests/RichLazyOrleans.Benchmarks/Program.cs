using BenchmarkDotNet.Running;
using RichLazyOrleans.Benchmarks;
using RichLazyOrleans.Theory;

if (args.Length > 0 && args[0] == "accuracy")
{
    // The accuracy each path reaches on the benchmark problems, against the numerical flow at
    // rtol 1e-14 (near the limit of double precision for DP45) as the common reference.
    var (beta, a0, w0) = Problems.SingleNeuron();
    double t = Problems.Time;
    var reference = new SingleNeuronNumeric(beta, a0, w0)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-14, AbsoluteTolerance = 1e-23 } }.Solve([t])[0];
    double Rel(double[] x, double[] y) =>
        Math.Sqrt(x.Zip(y, (p, q) => (p - q) * (p - q)).Sum()) / Math.Sqrt(y.Sum(v => v * v));
    Console.WriteLine($"single neuron d=10, t={t}: |beta - ref|/|ref|");
    Console.WriteLine(
        $"  exact                 {Rel(new SingleNeuronExact(beta, a0, w0).At(t).Beta, reference.Beta):G3}");
    foreach (double rtol in new[] { 1e-13, 1e-12, 1e-8 })
    {
        var n = new SingleNeuronNumeric(beta, a0, w0)
            { Integrator = new DormandPrince45 { RelativeTolerance = rtol, AbsoluteTolerance = rtol * 1e-8 } };
        var s = n.Solve([t])[0];
        Console.WriteLine($"  numeric rtol {rtol:G1}     {Rel(s.Beta, reference.Beta):G3}  " +
            $"({n.Stats!.Steps} steps, {n.Stats.Evaluations} gradient evaluations)");
    }
    var (sigma, w1, w2) = Problems.TwoLayer();
    var refTwo = new TwoLayerLinearNumeric(sigma, w1, w2)
        { Integrator = new DormandPrince45 { RelativeTolerance = 1e-14, AbsoluteTolerance = 1e-23 } }.Solve([t])[0];
    Console.WriteLine($"two-layer linear d=c=10 h=5 lambda=0.5, t={t}: |beta - ref|/|ref|");
    Console.WriteLine(
        $"  exact                 {Rel(new TwoLayerLinearExact(sigma, w1, w2).At(t).Beta.Data, refTwo.Beta.Data):G3}");
    foreach (double rtol in new[] { 1e-13, 1e-12, 1e-8 })
    {
        var n = new TwoLayerLinearNumeric(sigma, w1, w2)
            { Integrator = new DormandPrince45 { RelativeTolerance = rtol, AbsoluteTolerance = rtol * 1e-8 } };
        var s = n.Solve([t])[0];
        Console.WriteLine($"  numeric rtol {rtol:G1}     {Rel(s.Beta.Data, refTwo.Beta.Data):G3}  " +
            $"({n.Stats!.Steps} steps, {n.Stats.Evaluations} gradient evaluations)");
    }
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(Problems).Assembly).Run(args);
return 0;
