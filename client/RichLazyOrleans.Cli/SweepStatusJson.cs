using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.GrainInterfaces;

namespace RichLazyOrleans.Cli;

/// <summary>
/// A sweep's status for programs (`sweep status --json`, `sweep watch --jsonl`, `sweep list --json`): one JSON object,
/// snake_case keys, numbers as numbers, `failures` as the by-reason text or null.
/// </summary>
internal static class SweepStatusJson
{
    public static JsonObject Of(SweepStatus s) => new()
    {
        ["sweep_id"] = s.SweepId,
        ["state"] = s.State,
        ["finished"] = s.Finished,
        ["queued"] = s.Queued,
        ["running"] = s.Running,
        ["waiting"] = s.Waiting,
        ["done"] = s.Done,
        ["failed"] = s.Failed,
        ["depth"] = s.Depth,
        ["max_depth"] = s.MaxDepth,
        ["grid_points"] = s.GridPoints,
        ["rows_written"] = s.RowsWritten,
        ["elapsed_seconds"] = Math.Round(s.ElapsedSeconds, 3),
        ["redispatched"] = s.Redispatched,
        ["recoveries"] = s.Recoveries,
        ["failures"] = s.Failures,
        ["ignored_lines"] = s.IgnoredLines,
        ["message"] = s.Message,
    };

    /// <summary>One line of JSON (no indentation): a JSON Lines record.</summary>
    public static string Line(SweepStatus s) => Of(s).ToJsonString();
}
