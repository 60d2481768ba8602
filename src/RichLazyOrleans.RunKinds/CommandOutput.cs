using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// A `command` program's stdout read as rows: one JSON object per line with an integer `step` (at most 2⁵³, the
/// largest a double holds exactly: larger steps would collide), the declared metrics (numbers, null, or NaN,
/// Infinity and -Infinity as Python's `json` writes them: kept as IEEE values), optional `status` and
/// `resumed_from_step`. Every other line is a bad line: skipped, warned about and counted, never the end of the run
/// (a duplicate key, a line over <see cref="MaxLineChars"/> characters, which is skipped without being held).
/// </summary>
public sealed class CommandOutput(IReadOnlyList<string> metrics, Action<JsonObject>? rowReady, Action<string> warn)
{
    /// <summary>Longest stdout line read as a row: 1 MB of text is far beyond any row of metrics, and a program
    /// printing an array by mistake must not hold a silo's memory (a 100 MB line once took 1.8 GB).</summary>
    public const int MaxLineChars = 1 << 20;

    /// <summary>Largest step: 2⁵³, beyond which doubles (JSON numbers) no longer tell integers apart.</summary>
    public const double MaxStep = 9007199254740992;

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    /// <summary>Lines that were not rows (ignored and counted; each warned about).</summary>
    public int Ignored { get; private set; }

    /// <summary>Reads the program's rows until its stdout closes; a step printed again is dropped.</summary>
    public List<JsonObject> Read(TextReader stdout)
    {
        var rows = new List<JsonObject>();
        var seen = new HashSet<long>();
        foreach (var line in Lines(stdout))
        {
            if (line is null)
            {
                Bad($"stdout line longer than {MaxLineChars} characters, ignored");
                continue;
            }
            if (line.Trim().Length == 0) continue;
            if (Row(line) is not { } row) continue;
            if (!seen.Add(row["step"]!.GetValue<long>())) continue;   // a resumed program repeating a row
            rows.Add(row);
            rowReady?.Invoke(row);
        }
        return rows;
    }

    private void Bad(string what)
    {
        Ignored++;
        warn(what);
    }

    private JsonObject? Row(string line)
    {
        string shown = line.Length > 200 ? line[..200] + "…" : line;
        JsonObject? o;
        try { o = JsonNode.Parse(NamedFloats(line), documentOptions: Strict) as JsonObject; }
        catch (JsonException) { o = null; }
        if (o is null) { Bad($"stdout line is not a JSON object (or repeats a key), ignored: {shown}"); return null; }
        if (o["step"] is not JsonValue sv || !sv.TryGetValue(out double step) || step < 0 || step != Math.Floor(step)
            || step > MaxStep)
        {
            Bad($"stdout row without an integer 'step' in [0, 2^53], ignored: {shown}");
            return null;
        }
        var row = new JsonObject { ["step"] = (long)step };
        foreach (var m in metrics) row[m] = Number(o[m]) is { } x ? JsonValue.Create(x) : null;
        if (o["status"] is JsonValue st && st.TryGetValue(out string? s) && s is "ok" or "diverged" or "converged")
            row["status"] = s;
        if (o["resumed_from_step"] is JsonValue rv && rv.TryGetValue(out double r) && r >= 0 && r <= MaxStep)
            row["resumed_from_step"] = (long)r;
        return row;
    }

    /// <summary>A metric's value: a number, or NaN/±Infinity (bare, as Python writes them, or quoted).</summary>
    private static double? Number(JsonNode? n) => n is not JsonValue v ? null
        : v.TryGetValue(out double x) ? x
        : v.TryGetValue(out string? s) ? s switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => null,
        }
        : null;

    /// <summary>
    /// The line with Python's bare NaN, Infinity and -Infinity (outside strings) quoted, so a strict JSON parser
    /// takes it: `json.dumps(float("nan"))` writes `NaN`, which is not JSON, and a diverged run prints it.
    /// </summary>
    internal static string NamedFloats(string line)
    {
        if (line.IndexOf("NaN", StringComparison.Ordinal) < 0 && line.IndexOf("Infinity", StringComparison.Ordinal) < 0)
            return line;
        var sb = new StringBuilder(line.Length + 8);
        bool inString = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (inString)
            {
                sb.Append(c);
                if (c == '\\' && i + 1 < line.Length) sb.Append(line[++i]);
                else if (c == '"') inString = false;
                continue;
            }
            if (c == '"') { inString = true; sb.Append(c); continue; }
            string? token = Token(line, i, "-Infinity") ?? Token(line, i, "Infinity") ?? Token(line, i, "NaN");
            if (token is null) { sb.Append(c); continue; }
            sb.Append('"').Append(token).Append('"');
            i += token.Length - 1;
        }
        return sb.ToString();
    }

    private static string? Token(string line, int at, string token) =>
        string.CompareOrdinal(line, at, token, 0, token.Length) == 0
        && (at + token.Length == line.Length || !char.IsLetterOrDigit(line[at + token.Length])) ? token : null;

    /// <summary>The lines of <paramref name="reader"/>; null for a line over <see cref="MaxLineChars"/>, which is
    /// read past without being kept.</summary>
    internal static IEnumerable<string?> Lines(TextReader reader, int maxChars = MaxLineChars)
    {
        var buffer = new char[65536];
        var line = new StringBuilder();
        bool tooLong = false;
        for (int n; (n = reader.Read(buffer, 0, buffer.Length)) > 0;)
        {
            int start = 0;
            for (int i = 0; i < n; i++)
            {
                if (buffer[i] != '\n') continue;
                if (!tooLong) line.Append(buffer, start, i - start);
                yield return Finish(line, ref tooLong, maxChars);
                start = i + 1;
            }
            if (!tooLong) line.Append(buffer, start, n - start);
            if (line.Length > maxChars) { tooLong = true; line.Clear(); }
        }
        if (tooLong || line.Length > 0) yield return Finish(line, ref tooLong, maxChars);
    }

    private static string? Finish(StringBuilder line, ref bool tooLong, int maxChars)
    {
        bool skipped = tooLong || line.Length > maxChars;
        string? text = skipped ? null : line.ToString().TrimEnd('\r');
        line.Clear();
        tooLong = false;
        return text;
    }

    /// <summary>How a failure reason quotes stderr: its last lines, at most <paramref name="maxChars"/> characters
    /// (the log keeps all of it; a 20 MB stderr line once made every status answer 21 MB).</summary>
    public static string Tail(IEnumerable<string> lines, int maxChars = 4096)
    {
        string joined = string.Join(" | ", lines);
        return joined.Length <= maxChars ? joined : "…" + joined[^maxChars..];
    }
}
