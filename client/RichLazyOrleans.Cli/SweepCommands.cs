using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy sweep run SPEC.yaml --out DIR`: a sweep on an embedded silo, with progress.</summary>
internal static class SweepCommands
{
    public static Command Create()
    {
        var cmd = new Command("sweep", "Phase-diagram sweeps over (tau, delta) or (tau, alpha), refined where the regime changes.");
        var spec = new Argument<FileInfo>("spec") { Description = "sweep spec (YAML)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "results directory (runs/*.parquet)", Required = true };
        var slots = new Option<int>("--slots") { Description = "device slots of the embedded silo (default: one per core)", DefaultValueFactory = _ => SlotPool.DefaultSlots() };
        var redis = new Option<string?>("--redis") { Description = "HOST:PORT of a cluster's Redis (cluster mode)" };
        var run = new Command("run", "Run a sweep to completion (embedded silo unless --redis names a cluster) and show progress.") { spec, output, slots, redis };
        run.SetAction(async (p, ct) =>
        {
            if (p.GetValue(redis) is { } r) throw new SpecException($"--redis {r}: cluster mode is not available yet (issue 5); run without --redis for the embedded silo");
            int k = p.GetValue(slots);
            if (k < 1) throw new SpecException("--slots must be >= 1");
            return await RunAsync(p.GetValue(spec)!.FullName, p.GetValue(output)!.FullName, k, ct);
        });
        cmd.Subcommands.Add(run);
        return cmd;
    }

    private static async Task<int> RunAsync(string specPath, string outDir, int slots, CancellationToken ct)
    {
        var (spec, yaml) = LoadSpec(specPath);
        using var host = SiloSetup.BuildEmbedded(slots);
        await host.StartAsync(ct);
        var status = await RunOnAsync(host.Services.GetRequiredService<IClusterClient>(), spec, yaml, outDir, slots, ct);
        await host.StopAsync(CancellationToken.None);
        return ExitCode(status);
    }

    internal static int ExitCode(SweepStatus status) => status.State == "cancelled" ? 130 : status.Failed > 0 ? 1 : 0;

    internal static (SweepSpec Spec, string Yaml) LoadSpec(string specPath)
    {
        try { return (SweepSpec.Load(specPath, SweepCoordinatorGrain.Kinds), File.ReadAllText(specPath)); }
        catch (SweepSpecException e) { throw new SpecException(e.Message); }
    }

    /// <summary>Starts a sweep on a cluster, shows progress until it ends (Ctrl+C cancels), prints a summary.</summary>
    internal static async Task<SweepStatus> RunOnAsync(IClusterClient client, SweepSpec spec, string yaml, string outDir, int slots, CancellationToken ct)
    {
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "sweep.yaml"), yaml);
        var coordinator = client.GetGrain<ISweepCoordinatorGrain>(spec.Name);
        SweepStatus status;
        try { status = await coordinator.Start(new SweepRequest(yaml, outDir)); }
        catch (ArgumentException e) { throw new SpecException(e.Message); }

        Console.Error.WriteLine($"richlazy: sweep '{spec.Name}' ({spec.Kind}, {spec.Seeds.Count} seed(s), {spec.InitialPoints} initial points{(spec.Refine is { } rf ? $", refining '{rf.Metric}' at {rf.Threshold} to depth {rf.MaxDepth}, budget {rf.Budget}" : "")}) on {slots} slot(s) -> {outDir}");
        bool cancelled = false;
        var last = Stopwatch.StartNew();
        while (!status.Finished)
        {
            try { await Task.Delay(250, ct); }
            catch (OperationCanceledException) when (!cancelled)
            {
                cancelled = true;
                Console.Error.WriteLine("richlazy: cancelling: no new runs; waiting for running ones to finish");
                status = await coordinator.Cancel();
                continue;
            }
            status = await coordinator.GetStatus();
            if (last.Elapsed.TotalSeconds >= (Console.IsErrorRedirected ? 2 : 0.5) || status.Finished)
            {
                last.Restart();
                Console.Error.WriteLine(Line(status));
            }
        }
        Console.WriteLine($"sweep {status.SweepId}: {status.State}; {status.Done} runs done, {status.Failed} failed, {status.GridPoints} grid points, depth {status.Depth}/{status.MaxDepth}, {status.RowsWritten} rows, {status.ElapsedSeconds:F1} s");
        Console.WriteLine($"results: {Path.Combine(outDir, "runs")}/*.parquet");
        if (status.Message is not null) Console.Error.WriteLine($"richlazy: {status.Message}");
        return status;
    }

    /// <summary>`richlazy quickstart`: the README's main job.</summary>
    public static Command Quickstart()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "output directory", DefaultValueFactory = _ => new DirectoryInfo("results/quickstart") };
        var slots = new Option<int>("--slots") { Description = "device slots of the embedded silo", DefaultValueFactory = _ => SlotPool.DefaultSlots() };
        var cmd = new Command("quickstart", "On an embedded silo: an adaptive exact single-neuron phase diagram and a small adaptive teacher-student sweep, each with Parquet results and a PNG.") { output, slots };
        cmd.SetAction(async (p, ct) =>
        {
            string outDir = p.GetValue(output)!.FullName;
            int k = Math.Max(1, p.GetValue(slots));
            using var host = SiloSetup.BuildEmbedded(k);
            await host.StartAsync(ct);
            var client = host.Services.GetRequiredService<IClusterClient>();
            int code = 0;
            var pictures = new List<string>();
            foreach (var name in new[] { "quickstart-single-neuron", "quickstart-teacher-student" })
            {
                using var stream = typeof(SweepCommands).Assembly.GetManifestResourceStream($"examples/{name}.yaml")!;
                string yaml = new StreamReader(stream).ReadToEnd();
                SweepSpec spec;
                try { spec = SweepSpec.Parse(yaml, SweepCoordinatorGrain.Kinds); }
                catch (SweepSpecException e) { throw new SpecException(e.Message); }
                string dir = Path.Combine(outDir, name);
                var status = await RunOnAsync(client, spec, yaml, dir, k, ct);
                code = Math.Max(code, ExitCode(status));
                if (status.State == "complete") pictures.Add(await ResultsCommands.PlotAsync(dir, null, null, ct));
            }
            await host.StopAsync(CancellationToken.None);
            foreach (var pic in pictures) Console.WriteLine($"plot: {pic}");
            return code;
        });
        return cmd;
    }

    private static string Line(SweepStatus s)
    {
        int total = s.Done + s.Failed + s.Running + s.Queued;
        double rate = s.ElapsedSeconds > 0 ? (s.Done + s.Failed) / s.ElapsedSeconds : 0;
        string eta = rate > 0 && s.Queued + s.Running > 0 ? $", ETA (this round) {(s.Queued + s.Running) / rate:F0} s" : "";
        return $"richlazy: [{s.State}] depth {s.Depth}/{s.MaxDepth}: {s.Done}/{total} runs done, {s.Running} running, {s.Queued} queued, {s.Failed} failed, {s.GridPoints} points, {s.ElapsedSeconds:F1} s{eta}";
    }
}
