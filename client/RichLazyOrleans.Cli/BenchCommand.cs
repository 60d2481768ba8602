using RichLazyOrleans.Engine;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using RichLazyOrleans.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Cli;

/// <summary>
/// `richlazy bench teacher-student`: per-step time of the training engine side by side with the
/// bound of its two matrix products (measured in the same process) and the numpy loop, the cost of
/// a metrics checkpoint, and resident memory over a long run.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var cmd = new Command("bench", "Measure the engines against their baselines.");
        var steps = new Option<int>("--steps")
        {
            Description = "timed steps per repeat",
            DefaultValueFactory = _ => 2000,
        };
        var repeats = new Option<int>("--repeats")
        {
            Description = "repeats (the median is reported)",
            DefaultValueFactory = _ => 3,
        };
        var n = new Option<int>("--n") { DefaultValueFactory = _ => 1000 };
        var d = new Option<int>("--d") { DefaultValueFactory = _ => 100 };
        var m = new Option<int>("--m") { DefaultValueFactory = _ => 50 };
        var dtype = new Option<string>("--dtype") { DefaultValueFactory = _ => "float64" };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 1 };
        var memorySteps = new Option<int>("--memory-steps")
        {
            Description = "also run this many steps and report resident-memory growth (0: skip)",
            DefaultValueFactory = _ => 0,
        };
        var noNumpy = new Option<bool>("--no-numpy") { Description = "skip the numpy baseline" };
        var ts = new Command("teacher-student",
            "Per-step time at the paper's sizes vs the two-GEMM bound and numpy (one thread by default).")
        {
            steps, repeats, n, d, m, dtype, threads, memorySteps, noNumpy,
        };
        ts.SetAction(p => Run(p.GetValue(steps), p.GetValue(repeats), p.GetValue(n), p.GetValue(d), p.GetValue(m),
            p.GetValue(dtype)!, p.GetValue(threads), p.GetValue(memorySteps), !p.GetValue(noNumpy)));
        cmd.Subcommands.Add(ts);

        var runs = new Option<int>("--runs") { DefaultValueFactory = _ => 2000 };
        var duration = new Option<int>("--duration-ms") { DefaultValueFactory = _ => 10 };
        var slots = new Option<int>("--slots") { DefaultValueFactory = _ => 2 };
        var orch = new Command("orchestration", "Orchestration overhead: N synthetic runs of busy CPU work on K slots "
            + "of an embedded silo, against the ideal N·duration/K.") { runs, duration, slots };
        orch.SetAction(async (p, ct) =>
        {
            int n = p.GetValue(runs), ms = p.GetValue(duration), k = p.GetValue(slots);
            // A rows × cols lattice with exactly n points (rows, cols ≥ 2).
            int rows = Enumerable.Range(2, Math.Max(0, (int)Math.Sqrt(n) - 1)).LastOrDefault(a => n % a == 0);
            if (rows == 0)
                throw new SpecException(
                    $"--runs {n}: needs a number with a factor pair a x b, a, b >= 2 (e.g. 2000 = 40 x 50)");
            int cols = n / rows;
            string yaml = "name: orchestration-bench\nkind: synthetic\n"
                + $"params: {{ c0: 0, c1: 0.5, c2: 0.3, width: 0.05, duration_ms: {ms} }}\n"
                + $"axes:\n  tau: {{ from: 0.1, to: 10, scale: log }}\n  delta: {{ from: -1, to: 1 }}\n"
                + $"grid: {{ initial: [{rows}, {cols}] }}\n";
            var spec = RichLazyOrleans.Sweeps.SweepSpec.Parse(yaml, RichLazyOrleans.Engine.KindCatalog.Kinds);
            string dir = Directory.CreateTempSubdirectory("richlazy-bench-").FullName;
            using var host = RichLazyOrleans.Silo.SiloSetup.BuildEmbedded(k);
            await host.StartAsync(ct);
            var client = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
                .GetRequiredService<IClusterClient>(host.Services);
            var status = await SweepRunner.RunOnAsync(client, spec, yaml, dir, k, ct);
            await host.StopAsync(CancellationToken.None);
            double ideal = n * ms / 1000.0 / k;
            Console.WriteLine($"orchestration: {n} runs x {ms} ms on {k} slot(s): {status.ElapsedSeconds:F2} s, "
                + $"ideal {ideal:F2} s, ratio {status.ElapsedSeconds / ideal:F3}");
            Directory.Delete(dir, true);
            return 0;
        });
        cmd.Subcommands.Add(orch);
        cmd.Subcommands.Add(SamplerBench.Create());
        cmd.Subcommands.Add(UtilisationBench.Create());
        cmd.Subcommands.Add(CommandBench.Create());

        var cnnSteps = new Option<int>("--steps")
        {
            Description = "timed steps per repeat",
            DefaultValueFactory = _ => 100,
        };
        var cnnRepeats = new Option<int>("--repeats")
        {
            Description = "repeats (the median is reported)",
            DefaultValueFactory = _ => 3,
        };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 64 };
        var cnnThreads = new Option<int>("--threads") { DefaultValueFactory = _ => 1 };
        var cnn = new Command("cnn-mnist", "Per-step time of the cnn-mnist CNN (28x28 synthetic digits, "
            + "16/32 channels, 5x5) vs its convolutions' products as plain GEMMs, "
            + "and the cost of a metrics checkpoint.")
        {
            cnnSteps, cnnRepeats, batch, cnnThreads,
        };
        cnn.SetAction(p =>
            RunCnn(p.GetValue(cnnSteps), p.GetValue(cnnRepeats), p.GetValue(batch), p.GetValue(cnnThreads)));
        cmd.Subcommands.Add(cnn);
        return cmd;
    }

    /// <summary>
    /// The CNN's step against its bound: the same multiply-adds as the im2col GEMMs of the two convs
    /// (forward, weight gradients, the second conv's input gradient) and the head, timed alone in
    /// this process with the same thread count. Step time is the difference between runs of 2S and
    /// S steps over S, so set-up and the step-0 NTK cancel.
    /// </summary>
    private static int RunCnn(int steps, int repeats, int batch, int threads)
    {
        if (steps < 1 || repeats < 1 || batch < 1)
            throw new SpecException("--steps, --repeats and --batch must be >= 1");
        string dir = Directory.CreateTempSubdirectory("richlazy-bench-cnn-").FullName;
        try
        {
            SyntheticDigits.WriteIdx(dir, Math.Max(2000, batch), 200, 0);
            var paths = SyntheticDigits.Paths(dir);
            var config = new CnnMnistConfig
            {
                TrainImages = paths.TrainImages, TrainLabels = paths.TrainLabels,
                TestImages = paths.TestImages, TestLabels = paths.TestLabels,
                BatchSize = batch, Checkpoints = [], ProbeSize = 1, Threads = threads,
            };
            double Timed(long s)
            {
                using var t = new CnnMnistTrainer(config with { Steps = s });
                var sw = Stopwatch.StartNew();
                t.Run();
                return sw.Elapsed.TotalMilliseconds;
            }
            Timed(steps);   // warm-up
            double engine = Median(Enumerable.Range(0, repeats)
                .Select(_ => (Timed(2L * steps) - Timed(steps)) / steps));

            // im2col shapes: conv1 [B·784, 25]·[25, 16], conv2 [B·196, 400]·[400, 32], head [B, 1568]·[1568, 10];
            // backward: each weight's gradient (the transposed products) and conv2's input gradient.
            long b = batch;
            (long M, long K, long N)[] products =
            [
                // conv1 forward, weight gradient
                (b * 784, 25, 16), (25, b * 784, 16),
                // conv2 forward, weight gradient, input gradient
                (b * 196, 400, 32), (400, b * 196, 32), (b * 196, 32, 400),
                // head forward, weight gradient, input gradient
                (b, 1568, 10), (1568, b, 10), (b, 10, 1568),
            ];
            var mats = products.Select(p => (A: torch.randn([p.M, p.K]), B: torch.randn([p.K, p.N]))).ToArray();
            double gemm = Median(Enumerable.Range(0, repeats + 1).Select(_ =>
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < steps; i++)
                    foreach (var (a, bm) in mats)
                    {
                        using var scope = torch.NewDisposeScope();
                        a.mm(bm);
                    }
                return sw.Elapsed.TotalMilliseconds / steps;
            }).Skip(1));
            foreach (var (a, bm) in mats) { a.Dispose(); bm.Dispose(); }
            double flops = products.Sum(p => 2.0 * p.M * p.K * p.N);

            // A metrics checkpoint at the example's sizes: the NTK on 32 probe images, train/test evaluation.
            using var probe = new CnnMnistTrainer(config with { ProbeSize = 32, Steps = 0 });
            double ntk = Median(Enumerable.Range(0, 3).Select(_ =>
            {
                var sw = Stopwatch.StartNew();
                probe.EmpiricalNtk().Dispose();
                return sw.Elapsed.TotalMilliseconds;
            }));

            Console.WriteLine($"cnn-mnist step, batch {batch}, 28x28, channels 16/32, 5x5, float32, "
                + $"{threads} thread(s), median of {repeats} x {steps} steps");
            Console.WriteLine($"  engine (TorchSharp)                  {engine,9:F2} ms/step  "
                + $"({flops / (engine * 1e6):F1} GFLOP/s of GEMM-equivalent work)");
            Console.WriteLine($"  bound: the same products as GEMMs    {gemm,9:F2} ms/step  "
                + $"({flops / (gemm * 1e6):F1} GFLOP/s)   engine/bound = {engine / gemm:F2}");
            Console.WriteLine($"  empirical NTK, 32 probe images x 10  {ntk,9:F1} ms = {ntk / engine:F1} steps");
            return 0;
        }
        finally { Directory.Delete(dir, true); }
    }

    private static double Median(IEnumerable<double> xs) { var s = xs.Order().ToArray(); return s[s.Length / 2]; }

    private static int Run(int steps, int repeats, int n, int d, int m, string dtype, int threads, int memorySteps,
        bool numpy)
    {
        if (dtype is not ("float64" or "float32")) throw new SpecException("--dtype must be float64 or float32");
        var config = new TeacherStudentConfig
        {
            Tau = 0.5, Alpha = 1, Seed = 1, N = n, D = d, M = m, NTest = 10000, Lr = 5e-3 / 0.25,
            Steps = steps, Checkpoints = [], Float32 = dtype == "float32", Threads = threads,
        };
        using var trainer = new TeacherStudentTrainer(config, TeacherStudentData.Create(config));
        trainer.Run();   // warm-up
        var engine = Median(Enumerable.Range(0, repeats).Select(_ =>
        {
            var sw = Stopwatch.StartNew();
            trainer.Run();
            return sw.Elapsed.TotalMilliseconds / steps;
        }));

        // The bound: the step's two n×d×m products alone, same dtype, same threads, same process.
        var type = config.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        using var x = torch.randn([n, d], type);
        using var w = torch.randn([m, d], type);
        using var g = torch.randn([n, m], type);
        double gemm = Median(Enumerable.Range(0, repeats + 1).Select(rep =>
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
            {
                using var scope = torch.NewDisposeScope();
                x.mm(w.t());
                g.t().mm(x);
            }
            return sw.Elapsed.TotalMilliseconds / steps;
        }).Skip(1));
        double gflops = 2.0 * 2 * n * d * m / (gemm * 1e6);

        var checkpoint = Median(Enumerable.Range(0, 5).Select(_ =>
        {
            var sw = Stopwatch.StartNew();
            trainer.MetricsNow();
            return sw.Elapsed.TotalMilliseconds;
        }));

        Console.WriteLine($"teacher-student step, n={n} d={d} m={m} {dtype}, {threads} thread(s), "
            + $"median of {repeats} x {steps} steps");
        Console.WriteLine($"  engine (TorchSharp)          {engine,9:F3} ms/step");
        Console.WriteLine($"  bound: its two GEMMs alone   {gemm,9:F3} ms/step  ({gflops:F1} GFLOP/s)   "
            + $"engine/bound = {engine / gemm:F2}");
        Console.WriteLine($"  metrics checkpoint (full NTK){checkpoint,9:F3} ms = {checkpoint / engine:F1} steps");
        if (numpy)
        {
            // Debian's numpy links whichever libblas.so.3 the alternatives system selects: OpenBLAS
            // when libopenblas0 is installed, else the reference BLAS. Both are measured when present.
            const string referenceBlas = "/usr/lib/x86_64-linux-gnu/blas";
            var blases = new List<(string Name, string? LibraryPath)> { ("system BLAS", null) };
            if (Directory.Exists(referenceBlas)) blases.Add(("reference BLAS", referenceBlas));
            bool any = false;
            foreach (var (blasName, libPath) in blases)
                foreach (var mode in new[] { "authors", "tight" })
                {
                    double? np = Numpy(n, d, m, Math.Max(100, steps / (libPath is null ? 4 : 20)), mode, libPath);
                    if (np is not { } v) continue;
                    any = true;
                    Console.WriteLine(
                        $"  numpy, {mode} loop, {blasName,-14}{v,7:F3} ms/step  numpy/engine = {v / engine:F2}");
                }
            if (!any)
                Console.WriteLine("  numpy: not measured "
                    + "(needs python3 with numpy: apt-get install python3-numpy libopenblas0-pthread)");
        }
        if (memorySteps > 0)
        {
            // Resident memory sampled during one long run (every ~5 s): a per-step leak shows as
            // growth between the first and the last sample.
            var samples = new List<(long Step, double MiB)>();
            var sw = Stopwatch.StartNew();
            using var memRun = new TeacherStudentTrainer(config with { Steps = memorySteps },
                TeacherStudentData.Create(config))
            {
                Progress = (step, _) =>
                {
                    using var self = Process.GetCurrentProcess();
                    samples.Add((step, self.WorkingSet64 / 1048576.0));
                },
            };
            memRun.Run();
            if (samples.Count >= 2)
                Console.WriteLine($"  memory: resident {samples[0].MiB:F1} MiB at step {samples[0].Step}, "
                    + $"{samples[^1].MiB:F1} MiB at step {samples[^1].Step} "
                    + $"({samples.Count} samples over {sw.Elapsed.TotalSeconds:F0} s, "
                    + $"max {samples.Max(x => x.MiB):F1} MiB): "
                    + $"{(samples[^1].MiB - samples[0].MiB) * 1e5
                        / Math.Max(1, samples[^1].Step - samples[0].Step):F2} "
                    + "MiB per 100k steps");
            else Console.WriteLine("  memory: run too short to sample (use more --memory-steps)");
        }
        return 0;
    }

    private static double? Numpy(int n, int d, int m, int steps, string mode, string? libraryPath)
    {
        string script = Path.Combine(Path.GetTempPath(), $"richlazy-numpy-{Environment.ProcessId}.py");
        using (var res = typeof(BenchCommand).Assembly.GetManifestResourceStream("numpy_teacher_student.py")!)
        using (var f = File.Create(script)) res.CopyTo(f);
        foreach (var python in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                var psi = new ProcessStartInfo(python)
                {
                    RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                };
                foreach (var a in new[]
                {
                    script, n.ToString(CultureInfo.InvariantCulture), d.ToString(CultureInfo.InvariantCulture),
                    m.ToString(CultureInfo.InvariantCulture), "3", steps.ToString(CultureInfo.InvariantCulture), mode,
                })
                    psi.ArgumentList.Add(a);
                foreach (var v in new[] { "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS" })
                    psi.Environment[v] = "1";
                if (libraryPath is not null) psi.Environment["LD_LIBRARY_PATH"] = libraryPath;
                using var p = Process.Start(psi)!;
                string stdout = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode == 0
                    && double.TryParse(stdout.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double ms))
                {
                    File.Delete(script);
                    return ms;
                }
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        File.Delete(script);
        return null;
    }
}
