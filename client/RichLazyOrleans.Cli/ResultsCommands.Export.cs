using RichLazyOrleans.Engine;
using System.CommandLine;
using System.Globalization;
using System.Text;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy export DIR [--csv]`: every result row of a sweep as CSV.</summary>
internal static partial class ResultsCommands
{
    public static Command Export()
    {
        var dir = new Argument<DirectoryInfo>("dir") { Description = "results directory of a sweep" };
        // CSV is the default and only format: --csv is optional, accepted so that existing command lines keep working.
        var csv = new Option<bool>("--csv") { Description = "write CSV (the default and, so far, the only format)" };
        var output = new Option<FileInfo?>("--out") { Description = "file to write (default: DIR/results.csv)" };
        var cmd = new Command("export", "Export every result row of a sweep as CSV.") { dir, csv, output };
        cmd.SetAction(async (p, ct) =>
        {
            string d = p.GetValue(dir)!.FullName;
            var rows = await ResultFiles.ReadAllAsync(d, ct);
            if (rows.Count == 0) throw new SpecException($"no results in '{Path.Combine(d, "runs")}'");
            string path = p.GetValue(output)?.FullName ?? Path.Combine(d, "results.csv");
            AtomicFile.WriteAllText(path, Csv(rows));
            Console.WriteLine($"wrote {path} ({rows.Count} rows)");
            return 0;
        });
        return cmd;
    }

    private static readonly string[] Columns = ["sweep_id", "run_id", "kind", "tau", "delta", "alpha", "seed", "step",
        "t", "depth", "status", "wall_seconds", "resumed_from_step", "lattice_i", "lattice_j", "silo",
        "started_at", "finished_at", "queued_seconds"];

    internal static string Csv(IReadOnlyList<ResultRow> rows)
    {
        // Then the sweep's own columns (its axes and metrics: what its files hold), by name.
        var extras = ResultParquet.ExtraNames(rows.SelectMany(r => r.Extra?.Keys ?? Enumerable.Empty<string>()))
            .ToArray();
        static string N(double? v) => v is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : "";
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        static string T(DateTime? t) => t is { } x
            ? x.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture)
            : "";
        var sb = new StringBuilder(string.Join(",", Columns.Concat(extras).Append("params_json"))).Append('\n');
        foreach (var r in rows.OrderBy(r => r.RunId, StringComparer.Ordinal).ThenBy(r => r.Step))
        {
            sb.Append(string.Join(",", new[]
            {
                r.SweepId, r.RunId, r.Kind, N(r.Tau), N(r.Delta), N(r.Alpha), I(r.Seed), I(r.Step),
                N(r.T), I(r.Depth), r.Status, N(r.WallSeconds), I(r.ResumedFromStep),
                I(r.LatticeI), I(r.LatticeJ), r.Silo,
                T(r.StartedAt), T(r.FinishedAt), N(r.QueuedSeconds),
            }.Concat(extras.Select(m => N(r.Metric(m))))
                .Append(Quoted(r.ParamsJson)))).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A CSV field in quotes (RFC 4180: inner quotes doubled), empty when there is nothing.</summary>
    private static string Quoted(string text) => text.Length == 0 ? "" : $"\"{text.Replace("\"", "\"\"")}\"";
}
