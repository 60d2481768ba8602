using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Engine;

/// <summary>
/// A run kind's rows (JSON objects, as `richlazy run` prints them) to typed <see cref="RunRow"/>s: the one
/// conversion on the run's side. Made once per run attempt from its parsed spec.
/// </summary>
public sealed class RowFactory(IRunKind kind, JsonObject spec)
{
    /// <summary>The run's metric columns, in the order of <see cref="RunRow.Metrics"/>.</summary>
    public IReadOnlyList<string> Metrics { get; } = SweepSchema.MetricsOf(kind, spec);

    /// <summary>The row at index <paramref name="index"/> of the run's output (a theory kind's step is its time
    /// index).</summary>
    public RunRow Make(JsonObject row, int index, RunTimes times)
    {
        var metrics = new double?[Metrics.Count];
        for (int m = 0; m < metrics.Length; m++) metrics[m] = Number(row, Metrics[m]);
        return new RunRow(
            Step: row["step"] is JsonValue sv && sv.TryGetValue(out long step) ? step : index,
            T: Number(row, "t"),
            Status: row["status"] is JsonValue st && st.TryGetValue(out string? s) ? s : "ok",
            WallSeconds: times.WallSeconds,
            FinishedAt: times.FinishedAt,
            ResumedFromStep: row["resumed_from_step"] is JsonValue rv && rv.TryGetValue(out long r) ? r : 0,
            Metrics: metrics);
    }

    /// <summary>A metric of a typed row by name (null when the run has no such metric or no value).</summary>
    public double? Metric(RunRow? row, string? name) =>
        row is not null && name is not null && IndexOf(name) is >= 0 and var i ? row.Metrics[i] : null;

    private int IndexOf(string name)
    {
        for (int i = 0; i < Metrics.Count; i++) if (Metrics[i] == name) return i;
        return -1;
    }

    /// <summary>
    /// A numeric value of any CLR type: rows made in code hold the type they were made from (a long
    /// for steps_to_grok or train_size, a YAML integer in a sweep's params), parsed JSON a JsonElement.
    /// </summary>
    public static double? Number(JsonObject o, string key) =>
        o[key] is not JsonValue v ? null
        : v.TryGetValue(out double d) ? d
        : v.TryGetValue(out long l) ? l
        : v.TryGetValue(out int i) ? i
        : v.TryGetValue(out float f) ? f
        : v.TryGetValue(out decimal m) ? (double)m
        : null;
}
