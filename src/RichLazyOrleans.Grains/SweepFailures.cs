namespace RichLazyOrleans.Grains;

/// <summary>Why a sweep's runs failed, for its status: the silo's log is not where a researcher looks.</summary>
public static class SweepFailures
{
    /// <summary>Failed runs by reason (the error's first 160 characters), most frequent first; null when none
    /// failed.</summary>
    public static string? Count(IEnumerable<FinishedRun> runs)
    {
        var byReason = runs.Where(r => !r.Succeeded)
            .GroupBy(r => r.Error is { } e ? (e.Length > 160 ? e[..160] + "…" : e) : "no reason given")
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        return byReason.Count == 0 ? null : string.Join("; ", byReason.Select(g => $"{g.Count()}x {g.Key}"));
    }
}
