using System.Globalization;
using System.Text;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// The run-spec key reference, generated from the kinds' own declarations (<see cref="IRunKind.Keys"/>,
/// <see cref="IRunKind.Metrics"/>, <see cref="IRunKind.OutputColumns"/>): docs/spec-keys.md and the key lists of
/// `richlazy run --help`. Generated, not written, so it cannot fall behind the parsers.
/// </summary>
public static class SpecKeyReference
{
    /// <summary>How to rewrite the committed file (the drift test's failure message says it too).</summary>
    public const string Regenerate = "./richlazy docs spec-keys > docs/spec-keys.md";

    /// <summary>
    /// A kind's keys for `run --help`, "KEY*" required, "KEY (DEFAULT)", bare KEY optional, wrapped into lines of at
    /// most <paramref name="width"/> characters after <paramref name="indent"/>.
    /// </summary>
    public static IReadOnlyList<string> HelpKeys(IRunKind kind, string indent, int width)
    {
        var items = kind.Keys.Select(k =>
            k.Default.StartsWith(SpecKey.Required, StringComparison.Ordinal) ? k.Name + "*"
            : k.Default == SpecKey.Optional ? k.Name
            : $"{k.Name} ({k.Default})").ToList();
        var lines = new List<string>();
        var line = new StringBuilder(indent + "keys:");
        for (int i = 0; i < items.Count; i++)
        {
            string item = " " + items[i] + (i + 1 < items.Count ? "," : "");
            if (line.Length + item.Length > width && line.Length > indent.Length + 5)
            {
                lines.Add(line.ToString());
                line.Clear().Append(indent).Append("     ");
            }
            line.Append(item);
        }
        lines.Add(line.ToString());
        return lines;
    }

    /// <summary>docs/spec-keys.md.</summary>
    public static string Markdown(IReadOnlyList<IRunKind> kinds)
    {
        var md = new StringBuilder();
        md.Append($"""
            # Run spec keys

            <!-- Generated from each run kind's declared keys (IRunKind.Keys, src/RichLazyOrleans.RunKinds).
                 Do not edit: regenerate with `{Regenerate}`. -->

            Every key each run kind accepts, with its default and meaning. A run spec is a JSON object: the file of
            `richlazy run KIND --spec FILE.json`, or a sweep's `params` with the axis values and the seed added per
            run. A key a kind does not list here is refused with one line and exit code 2 (`unknown key 'K'`),
            except by `command`, which hands every other key to your program.

            Defaults: **required** (no default; "required (or X)" names the alternative), **optional** (absent
            means the feature is off or not used), otherwise the value used when the key is absent. Matrices are
            arrays of rows. The output columns are what each row reports as numbers; they become result columns
            (docs/results-schema.md), and those marked as metrics are refinement targets (`refine.metric`) with the
            range shown (a sweep's threshold must lie inside it).

            Kinds: {string.Join(", ", kinds.Select(k => $"[`{k.Name}`](#{k.Name})"))}.


            """);
        foreach (var kind in kinds)
        {
            md.Append($"## {kind.Name}\n\n{char.ToUpperInvariant(kind.Summary[0])}{kind.Summary[1..]}.\n\n");
            md.Append("| key | default | description |\n| --- | --- | --- |\n");
            foreach (var key in kind.Keys)
                md.Append($"| `{key.Name}` | {Cell(key.Default)} | {Cell(key.Description)} |\n");
            md.Append('\n');
            var facts = new List<string>
            {
                kind.HasSeed ? "Seeded (a sweep's `seeds` set `seed`)"
                    : "Deterministic (no `seed`; one seed per point)",
            };
            if (kind.Resumable) facts.Add("resumable (saved states, `resumed_from_step`)");
            if (kind.Cuda) facts.Add("runs on CUDA");
            if (kind.Open) facts.Add("open: any other key is passed on, and any key may be an axis");
            md.Append(string.Join("; ", facts)).Append(".\n");
            if (kind.AxisParameters.Count > 0)
            {
                md.Append("Sweep axes: ").Append(string.Join(", ", kind.AxisParameters.Order().Select(a =>
                    kind.IntegerAxes.Contains(a) ? $"`{a}` (rounded to integers)" : $"`{a}`"))).Append(".\n");
            }
            md.Append('\n');
            if (kind.OutputColumns.Count > 0)
            {
                md.Append("| output column | metric | range |\n| --- | --- | --- |\n");
                foreach (var column in kind.OutputColumns)
                {
                    bool metric = kind.Metrics.TryGetValue(column, out var range);
                    md.Append($"| `{column}` | {(metric ? "yes" : "no")} | {(metric ? Range(range) : "")} |\n");
                }
            }
            else
            {
                md.Append("Output columns: the `metrics` the spec declares.\n");
            }
            md.Append('\n');
        }
        return md.ToString().TrimEnd('\n') + "\n";
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Range((double Min, double Max) r) => $"{Bound(r.Min)} … {Bound(r.Max)}";

    private static string Bound(double v) => v switch
    {
        double.PositiveInfinity => "∞",
        double.NegativeInfinity => "−∞",
        _ => v.ToString("R", CultureInfo.InvariantCulture),
    };
}
