using RichLazyOrleans.Engine;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy theory ...`: jobs built on the exact solutions.</summary>
internal static class TheoryCommands
{
    public static Command Create()
    {
        var cmd = new Command("theory", "Jobs built on the exact solutions (no training, no cluster).");
        cmd.Subcommands.Add(PhaseDiagramCommand());
        return cmd;
    }

    private static Command PhaseDiagramCommand()
    {
        var outDir = new Option<DirectoryInfo>("--out")
        {
            Description = "output directory",
            DefaultValueFactory = _ => new DirectoryInfo("results/single-neuron"),
        };
        var d = new Option<int>("--d")
        {
            Description = "input dimension d (>= 2 unless --angle is 0 or 180)",
            DefaultValueFactory = _ => 3,
        };
        var angle = new Option<double>("--angle")
        {
            Description = "angle in degrees between w0 and beta* (> 90: w starts against the target)",
            DefaultValueFactory = _ => 120,
        };
        var tauFrom = new Option<double>("--tau-from")
        {
            Description = "smallest tau (log axis)",
            DefaultValueFactory = _ => 0.01,
        };
        var tauTo = new Option<double>("--tau-to") { Description = "largest tau", DefaultValueFactory = _ => 10 };
        var deltaFrom = new Option<double>("--delta-from")
        {
            Description = "smallest delta",
            DefaultValueFactory = _ => -2,
        };
        var deltaTo = new Option<double>("--delta-to") { Description = "largest delta", DefaultValueFactory = _ => 2 };
        var points = new Option<int>("--points")
        {
            Description = "grid points per axis",
            DefaultValueFactory = _ => 121,
        };
        var times = new Option<string>("--times")
        {
            Description = "comma-separated times; 1e9 is the converged state",
            DefaultValueFactory = _ => "1,1e9",
        };
        var cmd = new Command("phase-diagram",
            "Exact single-neuron phase diagram: kernel distance (and loss) over a (tau, delta) grid at given times, "
            + "with ||beta*|| = 1. Writes single-neuron-phase.csv and one PNG heatmap per time and metric.")
        {
            outDir, d, angle, tauFrom, tauTo, deltaFrom, deltaTo, points, times,
        };
        cmd.SetAction(parse =>
        {
            var job = new PhaseDiagramJob(
                parse.GetValue(d), parse.GetValue(angle), parse.GetValue(tauFrom), parse.GetValue(tauTo),
                parse.GetValue(deltaFrom), parse.GetValue(deltaTo), parse.GetValue(points),
                ParseTimes(parse.GetValue(times)!));
            return job.Run(parse.GetValue(outDir)!.FullName);
        });
        return cmd;
    }

    private static double[] ParseTimes(string s)
    {
        var parts = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) throw new SpecException("--times needs at least one time");
        return parts.Select(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var t)
            && t >= 0 && double.IsFinite(t)
                ? t : throw new SpecException($"--times: '{p}' is not a finite time >= 0")).ToArray();
    }
}

/// <summary>The single-neuron (τ, δ) phase diagram: exact, so every grid point is a closed-form evaluation.</summary>
internal sealed record PhaseDiagramJob(int D, double AngleDegrees, double TauFrom, double TauTo, double DeltaFrom,
    double DeltaTo, int Points, double[] Times)
{
    public int Run(string outDir)
    {
        Validate();
        var sw = Stopwatch.StartNew();
        double theta = AngleDegrees * Math.PI / 180;
        var betaStar = new double[D];
        betaStar[0] = 1;
        var dir = new double[D];
        dir[0] = Math.Cos(theta);
        if (D > 1) dir[1] = Math.Sin(theta);

        var taus = Enumerable.Range(0, Points).Select(i =>
            Math.Pow(10, Math.Log10(TauFrom) + i * (Math.Log10(TauTo) - Math.Log10(TauFrom)) / (Points - 1))).ToArray();
        var deltas = Enumerable.Range(0, Points)
            .Select(i => DeltaFrom + i * (DeltaTo - DeltaFrom) / (Points - 1)).ToArray();
        // kernel[timeIndex][tauIndex, deltaIndex]
        var kernel = Times.Select(_ => new double[Points, Points]).ToArray();
        var loss = Times.Select(_ => new double[Points, Points]).ToArray();
        var csv = new StringBuilder("tau,delta,alpha,t,kernel_distance,loss,a,beta_norm\n");
        for (int i = 0; i < Points; i++)
            for (int j = 0; j < Points; j++)
            {
                double tau = taus[i], delta = deltas[j], alpha = Initialisation.Alpha(tau, delta);
                var exact = new SingleNeuronExact(betaStar, tau / alpha, dir.Select(v => tau * alpha * v).ToArray());
                for (int k = 0; k < Times.Length; k++)
                {
                    var s = exact.At(Times[k]);
                    kernel[k][i, j] = s.KernelDistance;
                    loss[k][i, j] = s.Loss;
                    csv.Append(CultureInfo.InvariantCulture, $"{tau:R},{delta:R},{alpha:R},{Times[k]:R},"
                        + $"{s.KernelDistance:R},{s.Loss:R},{s.A:R},{Matrix.Norm2(s.Beta):R}\n");
                }
            }
        double computeSeconds = sw.Elapsed.TotalSeconds;

        Directory.CreateDirectory(outDir);
        var written = new List<string>();
        string csvPath = Path.Combine(outDir, "single-neuron-phase.csv");
        AtomicFile.WriteAllText(csvPath, csv.ToString());
        written.Add(csvPath);
        string setting = $"single neuron, d={D}, angle(w0, beta*)={AngleDegrees:G4} deg, |beta*|=1";
        for (int k = 0; k < Times.Length; k++)
        {
            string tLabel = Times[k] >= 1e9 ? "converged (t = 1e9)" : $"t = {Times[k]:G4}";
            string suffix = Times[k].ToString("G4", CultureInfo.InvariantCulture).Replace("+", "");
            try
            {
                written.Add(PhasePlot.Heatmap(Path.Combine(outDir, $"kernel-distance-t{suffix}.png"), kernel[k], taus,
                    deltas, $"Kernel distance, {tLabel}", setting, "kernel distance S", logValues: false));
                if (Times[k] < 1e9)
                    written.Add(PhasePlot.Heatmap(Path.Combine(outDir, $"loss-t{suffix}.png"), loss[k], taus, deltas,
                        $"log10 loss, {tLabel}", setting, "log10 loss", logValues: true));
            }
            catch (Exception e) when (e is TypeInitializationException or DllNotFoundException)
            {
                Console.Error.WriteLine(
                    $"richlazy: plotting unavailable ({e.Message.Split('\n')[0]}); the CSV is complete");
            }
        }

        Console.WriteLine($"single-neuron phase diagram: {Points}x{Points} (tau, delta) points x {Times.Length} times, "
            + $"exact, computed in {computeSeconds:F2} s");
        for (int k = 0; k < Times.Length; k++)
        {
            var flat = kernel[k].Cast<double>().ToArray();
            Console.WriteLine($"  t = {Times[k]:G4}: kernel distance from {flat.Min():G3} to {flat.Max():G3}; "
                + $"at tau={taus[0]:G3}: delta={deltas[0]:G3} -> {kernel[k][0, 0]:G3}, "
                + $"delta=0 -> {kernel[k][0, Points / 2]:G3}, delta={deltas[^1]:G3} -> {kernel[k][0, Points - 1]:G3}; "
                + $"at tau={taus[^1]:G3}: {kernel[k][Points - 1, Points / 2]:G3}");
        }
        foreach (var path in written) Console.WriteLine($"wrote {path}");
        return 0;
    }

    private void Validate()
    {
        if (D < 1) throw new SpecException("--d must be >= 1");
        if (D == 1 && AngleDegrees % 180 != 0) throw new SpecException("--d 1 allows only --angle 0 or 180");
        if (!(TauFrom > 0) || !(TauTo > TauFrom)) throw new SpecException("--tau-from must be > 0 and below --tau-to");
        if (!(DeltaTo > DeltaFrom)) throw new SpecException("--delta-from must be below --delta-to");
        if (Points < 2 || Points > 2001) throw new SpecException("--points must be between 2 and 2001");
    }
}

/// <summary>Writes files so that readers never see a half-written one (write to a temp name, then rename).</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        string tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
