using System.Text.Json;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.Sweeps;

/// <summary>
/// DIR/boundary.json: the estimated threshold level set of the refine metric (<see cref="PhaseEstimate.LevelSet"/>)
/// as polylines in axis units: { metric, threshold, axes: [{ name, from, to, scale }], points, polylines: [[{ AXIS:
/// value, … }, …], …] }. A closed polyline repeats its first point at the end.
/// On one axis each polyline is one point.
/// </summary>
public static class BoundaryFile
{
    public const string FileName = "boundary.json";

    public static string Json(SweepSpec spec, PhaseEstimate estimate, int points)
    {
        var refine = spec.Refine ?? throw new ArgumentException("a boundary needs refine (metric and threshold)");
        var lines = new JsonArray();
        foreach (var line in estimate.LevelSet(refine.Threshold))
        {
            var l = new JsonArray();
            foreach (var (u, v) in line)
            {
                var o = new JsonObject { [spec.Axes[0].Name] = spec.Axes[0].ValueAt(u) };
                if (spec.Axes.Count == 2) o[spec.Axes[1].Name] = spec.Axes[1].ValueAt(v);
                l.Add(o);
            }
            lines.Add(l);
        }
        var doc = new JsonObject
        {
            ["sweep"] = spec.Name,
            ["metric"] = refine.Metric,
            ["threshold"] = refine.Threshold,
            ["axes"] = new JsonArray(spec.Axes.Select(a => (JsonNode)new JsonObject
            {
                ["name"] = a.Name, ["from"] = a.From, ["to"] = a.To, ["scale"] = a.Log ? "log" : "linear",
            }).ToArray()),
            ["points"] = points,
            ["polylines"] = lines,
        };
        return doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
