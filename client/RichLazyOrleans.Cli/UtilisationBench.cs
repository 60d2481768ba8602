using RichLazyOrleans.Engine;
using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Cli;

/// <summary>
/// `richlazy bench utilisation`: an adaptive synthetic sweep with uneven run times on an embedded silo, and how busy
/// its slots were, from the rows' timing columns: Σ wall_seconds (execution on a slot) ÷ (slots × makespan), the
/// makespan running from the first run's start to the last run's end. Round barriers would show up as idle slots.
/// </summary>
internal static class UtilisationBench
{
    public static Command Create()
    {
        var points = new Option<int>("--points")
            { Description = "grid-point budget of the adaptive sweep", DefaultValueFactory = _ => 300 };
        var duration = new Option<int>("--duration-ms") { DefaultValueFactory = _ => 30 };
        var spread = new Option<double>("--duration-spread") { DefaultValueFactory = _ => 3 };
        var slots = new Option<int>("--slots") { DefaultValueFactory = _ => 2 };
        var cmd = new Command("utilisation",
            "Slot utilisation of an adaptive synthetic sweep with uneven run times, from the timing columns.")
        {
            points, duration, spread, slots,
        };
        cmd.SetAction(async (p, ct) =>
        {
            int n = p.GetValue(points), k = p.GetValue(slots);
            string yaml = FormattableString.Invariant(
                $"name: utilisation-bench\nkind: synthetic\nparams: {{ c0: -0.3, c1: 0.4, c2: -0.3, width: 0.02, ")
                + FormattableString.Invariant(
                    $"duration_ms: {p.GetValue(duration)}, duration_spread: {p.GetValue(spread)} }}\n")
                + "axes:\n  tau: { from: 0.1, to: 2, scale: log }\n  delta: { from: -1, to: 1 }\n"
                + "grid: { initial: [5, 5] }\n"
                + FormattableString.Invariant(
                    $"refine: {{ metric: value, threshold: 0.5, max_depth: 6, budget: {n} }}\n");
            var spec = Sweeps.SweepSpec.Parse(yaml, Engine.KindCatalog.Kinds);
            string dir = Directory.CreateTempSubdirectory("richlazy-bench-").FullName;
            try
            {
                using var host = Silo.SiloSetup.BuildEmbedded(k);
                await host.StartAsync(ct);
                var client = host.Services.GetRequiredService<IClusterClient>();
                var status = await SweepRunner.RunOnAsync(client, spec, yaml, dir, k, ct);
                await host.StopAsync(CancellationToken.None);
                var rows = await ResultFiles.ReadAllAsync(dir, ct);
                var (busy, makespan, u) = Utilisation(rows, k);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"utilisation: {rows.Count} runs on {k} slot(s): busy {busy:F2} s, makespan {makespan:F2} s, "
                    + $"utilisation {u:F3} (sweep {status.ElapsedSeconds:F2} s)"));
            }
            finally { Directory.Delete(dir, true); }
            return 0;
        });
        return cmd;
    }

    /// <summary>Busy time (Σ execution), makespan (first start to last end) and busy ÷ (slots × makespan).</summary>
    internal static (double Busy, double Makespan, double Utilisation) Utilisation(IReadOnlyList<ResultRow> rows,
        int slots)
    {
        var runs = rows.GroupBy(r => r.RunId).Select(g => g.First()).ToList();
        double busy = runs.Sum(r => r.WallSeconds);
        double makespan = (runs.Max(r => r.FinishedAt) - runs.Min(r => r.StartedAt)).TotalSeconds;
        return (busy, makespan, busy / (slots * makespan));
    }
}
