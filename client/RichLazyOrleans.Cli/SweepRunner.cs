using RichLazyOrleans.Engine;
using Spectre.Console;
using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli;

/// <summary>Following a sweep from a client: start it, show progress until it ends, Ctrl+C, the summary and exit
/// code.</summary>
internal static class SweepRunner
{
    /// <summary>How long `sweep run` waits for a cluster that stopped answering before it gives up (the sweep goes on
    /// regardless).</summary>
    internal static readonly TimeSpan LostContactLimit = TimeSpan.FromMinutes(10);

    internal static int ExitCode(SweepStatus status) => status.State is "cancelled" or "cancelling" ? 130
        : status.Failed > 0 || status.State == "failed" ? 1 : 0;

    /// <summary>Starts a sweep on a cluster, shows progress until it ends (Ctrl+C cancels), prints a summary.</summary>
    internal static async Task<SweepStatus> RunOnAsync(IClusterClient client, SweepSpec spec, string yaml,
        string outDir, int slots, CancellationToken ct)
    {
        var coordinator = client.GetGrain<ISweepCoordinatorGrain>(spec.Name);
        var status = await coordinator.Start(new SweepRequest(yaml, outDir));
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "sweep.yaml"), yaml);   // beside its results, for plot

        Console.Error.WriteLine($"richlazy: sweep '{spec.Name}' ({spec.Kind}, {spec.Seeds.Count} seed(s), "
            + $"{spec.InitialPoints} initial points{Planned(spec)}) on "
            + $"{(slots > 0 ? $"{slots} slot(s)" : "the cluster")} -> {outDir}");
        bool cancelled = false;
        // Our own silo (slots > 0): stopping it after Ctrl+C makes running runs save their state and stop (as a
        // silo does on SIGTERM) instead of keeping the user waiting for them, possibly for hours.
        bool embedded = slots > 0;
        bool Done(SweepStatus s) => s.Finished || (cancelled && embedded);
        DateTime? lostSince = null;
        async Task<SweepStatus> Poll(SweepStatus s)
        {
            // After Ctrl+C, keep following until the running runs are recorded.
            try { await Task.Delay(250, cancelled ? CancellationToken.None : ct); }
            catch (OperationCanceledException) when (!cancelled)
            {
                cancelled = true;
                // A second Ctrl+C quits at once: every file on disk is whole (written and renamed), and what was
                // not saved yet is run again by the same command.
                Console.CancelKeyPress += (_, _) =>
                {
                    Console.Error.WriteLine("richlazy: quitting now; run the same command again to continue");
                    Environment.Exit(130);
                };
                Console.Error.WriteLine(embedded
                    ? "richlazy: stopping: no new runs; running ones save their state and stop (Ctrl+C again quits "
                        + "at once); run the same command again to continue"
                    : "richlazy: stopping: no new runs; running ones save their state and stop (Ctrl+C again stops "
                        + $"watching); `richlazy sweep resume {spec.Name}` continues");
                // Embedded, stopping our own silo does the rest (as SIGTERM); in a cluster the sweep asks its runs.
                return embedded ? await coordinator.Cancel() : await coordinator.Stop();
            }
            // A cluster whose silos are restarting (or whose Redis is) answers again in a while: wait,
            // since the sweep itself is durable and goes on by itself once silos are back.
            try
            {
                var fresh = await coordinator.GetStatus();
                if (lostSince is not null)
                {
                    Console.Error.WriteLine("richlazy: the cluster answers again after "
                        + $"{(DateTime.UtcNow - lostSince.Value).TotalSeconds:F0} s");
                    lostSince = null;
                }
                return fresh;
            }
            // Also a TaskCanceledException that is not ours: Orleans cancels calls pending on a gateway that died.
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (lostSince is null)
                {
                    lostSince = DateTime.UtcNow;
                    Console.Error.WriteLine(
                        $"richlazy: lost contact with the cluster ({e.Message.Split('\n')[0]}); waiting for it");
                }
                else if (DateTime.UtcNow - lostSince > LostContactLimit)
                    throw new InvalidOperationException($"no answer from the cluster for "
                        + $"{LostContactLimit.TotalMinutes:F0} minutes; the sweep is durable: "
                        + $"`richlazy sweep watch {spec.Name}` re-attaches");
                await Task.Delay(1000, ct);
                return s;
            }
        }

        if (!Console.IsErrorRedirected)
        {
            // A terminal: a live progress bar (on stderr, so stdout stays for the summary).
            var console = Spectre.Console.AnsiConsole.Create(
                new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(Console.Error) });
            await console.Progress()
                .Columns(new Spectre.Console.TaskDescriptionColumn(), new Spectre.Console.ProgressBarColumn(),
                    new Spectre.Console.PercentageColumn(), new Spectre.Console.ElapsedTimeColumn(),
                    new Spectre.Console.RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(spec.Name);
                    while (true)
                    {
                        task.MaxValue = Math.Max(1, ExpectedRuns(spec, status));
                        task.Value = status.Done + status.Failed;
                        task.Description = $"{spec.Name} [grey]depth {status.Depth}/{status.MaxDepth} · "
                            + $"{status.Running} running · {status.Waiting} waiting for a slot · "
                            + $"{status.Queued} queued · {status.Failed} failed[/]";
                        if (Done(status)) break;
                        status = await Poll(status);
                    }
                });
        }
        else
        {
            var last = Stopwatch.StartNew();
            while (!Done(status))
            {
                status = await Poll(status);
                if (last.Elapsed.TotalSeconds >= 2 || Done(status))
                {
                    last.Restart();
                    Console.Error.WriteLine(Line(status, ExpectedRuns(spec, status)));
                }
            }
        }
        Console.WriteLine($"sweep {status.SweepId}: {status.State}; {status.Done} runs done, {status.Failed} failed, "
            + $"{status.GridPoints} grid points, depth {status.Depth}/{status.MaxDepth}, {status.RowsWritten} rows, "
            + $"{status.ElapsedSeconds:F1} s");
        Console.WriteLine(ResultsLine(status, outDir));
        if (status.Failures is not null) Console.Error.WriteLine($"richlazy: failed runs: {status.Failures}");
        if (status.IgnoredLines > 0)
            Console.Error.WriteLine($"richlazy: {status.IgnoredLines} stdout line(s) of the programs were not rows and "
                + $"were ignored (each is in {Path.Combine(outDir, "logs")}/RUN_ID.log)");
        // The last run failure is in the counts already; anything else (results not written, a restore) is not.
        if (status.Message is { } m && !(status.Failures is not null && m.StartsWith("run ", StringComparison.Ordinal)))
            Console.Error.WriteLine($"richlazy: {m}");
        return status;
    }

    /// <summary>Where the rows are; a sweep that wrote none says why instead of naming files that do not exist.
    /// </summary>
    internal static string ResultsLine(SweepStatus s, string outDir)
    {
        string runs = Path.Combine(outDir, "runs");
        if (s.RowsWritten > 0 || (Directory.Exists(runs) && Directory.EnumerateFiles(runs, "*.parquet").Any()))
            return $"results: {runs}/*.parquet";
        return s.Failed > 0 && s.Done == 0
            ? $"results: none: all {s.Failed} run(s) failed, so nothing was written to {runs} (reasons below; "
                + "`richlazy run KIND --spec FILE` reproduces one run with its full error)"
            : $"results: none written to {runs} ({s.State})";
    }

    /// <summary>How the points are chosen, for the start line (a grid or random sweep has no threshold to
    /// refine at).</summary>
    private static string Planned(SweepSpec spec) => spec.Refine switch
    {
        null => spec.Planner == PlannerRegistry.Default ? "" : $", planner {spec.Planner}",
        { } rf when spec.Planner == PlannerRegistry.Default =>
            $", refining '{rf.Metric}' at {rf.Threshold} to depth {rf.MaxDepth}, budget {rf.Budget}",
        { } rf => $", planner {spec.Planner}: {rf.Budget} points to depth {rf.MaxDepth}",
    };

    /// <summary>
    /// Runs the sweep is expected to take: the budget's points (the initial lattice without refine) times the
    /// seeds per point (adaptive: the minimum, so it can grow), or what is already known, if more. The planner
    /// proposes runs as slots free up, so this is an estimate until the sweep ends (it may also end early,
    /// when nothing is left to refine).
    /// </summary>
    private static int ExpectedRuns(SweepSpec spec, SweepStatus s)
    {
        int points = spec.Refine?.Budget ?? spec.InitialPoints;
        int seeds = spec.SeedRange?.Min ?? spec.Seeds.Count;
        return Math.Max(points * seeds, s.Done + s.Failed + s.Running + s.Waiting + s.Queued);
    }

    /// <summary>A status line without the spec at hand (submit, status, watch): no estimate of what is left.</summary>
    internal static string Line(SweepStatus s, int? expected = null)
    {
        int total = expected ?? s.Done + s.Failed + s.Running + s.Waiting + s.Queued;
        double rate = s.ElapsedSeconds > 0 ? (s.Done + s.Failed) / s.ElapsedSeconds : 0;
        int left = total - s.Done - s.Failed;
        string eta = expected is not null && rate > 0 && left > 0 && !s.Finished
            ? $", ETA ~{left / rate:F0} s (to the budget)" : "";
        string recovered = s.Redispatched + s.Recoveries > 0
            ? $", {s.Redispatched} run(s) moved, sweep restored {s.Recoveries}x" : "";
        string why = s.Failures is null ? "" : $" ({s.Failures})";
        string ignored = s.IgnoredLines > 0 ? $", {s.IgnoredLines} stdout line(s) ignored" : "";
        return $"richlazy: [{s.State}] depth {s.Depth}/{s.MaxDepth}: {s.Done}/{total} runs done, {s.Running} running, "
            + $"{s.Waiting} waiting for a slot, {s.Queued} queued, {s.Failed} failed{why}, {s.GridPoints} points, "
            + $"{s.ElapsedSeconds:F1} s{eta}{recovered}{ignored}";
    }
}
