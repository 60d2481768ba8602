namespace RichLazyOrleans.Engine;

/// <summary>Why a sweep's runs failed, for its status: the silo's log is not where a researcher looks.</summary>
public static partial class SweepFailures
{
    /// <summary>Failed runs by reason (the error's first 160 characters, quoted paths cut), most frequent first;
    /// null when none failed.</summary>
    public static string? Count(IEnumerable<FinishedRun> runs)
    {
        var byReason = runs.Where(r => !r.Succeeded)
            .GroupBy(r => r.Error is { } e ? Reason(e) : "no reason given")
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        return byReason.Count == 0 ? null : string.Join("; ", byReason.Select(g => $"{g.Count()}x {g.Key}"));
    }

    /// <summary>An error with the paths it quotes cut to their last name: each run names its own directory ("No space
    /// left on device : '/out/checkpoints/p0-s0/ckpt-5.bin'"), which made every run a reason of its own.</summary>
    private static string Reason(string error)
    {
        string e = QuotedPath().Replace(error, m => $"'…/{Path.GetFileName(m.Value.Trim('\'').TrimEnd('/', '\\'))}'");
        return e.Length > 160 ? e[..160] + "…" : e;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"'(/|[A-Za-z]:\\)[^']*'")]
    private static partial System.Text.RegularExpressions.Regex QuotedPath();
}
