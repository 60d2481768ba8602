using System.Text.Json.Nodes;
using RichLazyOrleans.Engine;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Results;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.Grains;

/// <summary>
/// When a run executed, for its rows: <paramref name="StartedAt"/> and <paramref name="FinishedAt"/> in UTC
/// (FinishedAt: the end of the execution, or for a row streamed before the end the moment it was
/// produced), <paramref name="QueuedSeconds"/> waiting for a slot, and <paramref name="WallSeconds"/>
/// executing on it up to FinishedAt (measured on a monotonic clock, so a wall-clock step cannot skew it).
/// </summary>
public readonly record struct RunTimes(
    DateTime StartedAt, DateTime FinishedAt, double QueuedSeconds, double WallSeconds);

/// <summary>Maps a run kind's JSON rows to the result schema.</summary>
public static class RunRows
{
    public static List<ResultRow> ToResultRows(
        RunRequest request, JsonObject spec, IReadOnlyList<JsonObject> rows, RunTimes times, string silo = "")
    {
        double? tau = Number(spec, "tau"), delta = Number(spec, "delta"), alpha = Number(spec, "alpha");
        if (tau is { } t0 && delta is { } d0 && alpha is null) alpha = Initialisation.Alpha(t0, d0);
        if (tau is { } t1 && alpha is { } a1 && delta is null) delta = Initialisation.Delta(t1, a1);
        var result = new List<ResultRow>(rows.Count);
        // Axis values are columns (tau, delta and alpha have theirs above); so is every metric the kind declares.
        var axes = (request.Axes ?? []).Where(a => a is not ("tau" or "delta" or "alpha")).ToArray();
        var metrics = KindMetrics(request.Kind, spec);
        string paramsJson = spec.ToJsonString();
        for (int k = 0; k < rows.Count; k++)
        {
            var r = rows[k];
            var row = new ResultRow
            {
                SweepId = request.SweepId,
                RunId = request.RunId,
                Kind = request.Kind,
                Tau = tau,
                Delta = delta,
                Alpha = alpha,
                Seed = request.Seed,
                // Step-based kinds report "step"; theory kinds report "t", and their step is the time index.
                Step = r["step"] is JsonValue sv && sv.TryGetValue(out long step) ? step : k,
                T = Number(r, "t"),
                Depth = request.Depth,
                Status = r["status"] is JsonValue st && st.TryGetValue(out string? s) ? s : "ok",
                WallSeconds = times.WallSeconds,
                StartedAt = times.StartedAt,
                FinishedAt = times.FinishedAt,
                QueuedSeconds = times.QueuedSeconds,
                ResumedFromStep = r["resumed_from_step"] is JsonValue rv && rv.TryGetValue(out long resumed) ? resumed : 0,
                LatticeI = request.LatticeI,
                LatticeJ = request.LatticeJ,
                Silo = silo,
            };
            foreach (var name in metrics) row.SetColumn(name, Number(r, name));
            foreach (var axis in axes) row.SetColumn(axis, Number(spec, axis));
            row.ParamsJson = paramsJson;
            result.Add(row);
        }
        return result;
    }

    private static IReadOnlyList<string> KindMetrics(string kind, JsonObject spec) =>
        SweepSchema.MetricsOf(RunKinds.RunKindRegistry.Get(kind), spec);

    /// <summary>
    /// A numeric value of any CLR type: rows made in code hold the type they were made from (a long
    /// for steps_to_grok or train_size, a YAML integer in a sweep's params), parsed JSON a JsonElement.
    /// </summary>
    internal static double? Number(JsonObject o, string key) =>
        o[key] is not JsonValue v ? null
        : v.TryGetValue(out double d) ? d
        : v.TryGetValue(out long l) ? l
        : v.TryGetValue(out int i) ? i
        : v.TryGetValue(out float f) ? f
        : v.TryGetValue(out decimal m) ? (double)m
        : null;
}
