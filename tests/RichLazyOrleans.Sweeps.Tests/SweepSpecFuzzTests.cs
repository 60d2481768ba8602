using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests;

/// <summary>
/// Issue 12's fuzz test, for the spec parser (the client and every silo run it): a few hundred random and mutated
/// specs, seeded, each either parse or are refused with a SpecException of one line. Anything else (another
/// exception type, a multi-line message, a parse slower than a few seconds) is a defect.
/// </summary>
public class SweepSpecFuzzTests
{
    private const string Valid = """
        name: fuzz
        kind: teacher-student
        params: { n: 200, d: 20, m: 10, steps: 20000, checkpoints: [0, 100, 1000, 20000] }
        axes:
          tau:   { from: 0.1, to: 2.0, scale: log }
          delta: { from: -1.0, to: 1.0 }
        seeds: [100, 101]
        grid:   { initial: [5, 5] }
        refine: { metric: kernel_distance, threshold: 0.5, max_depth: 3, budget: 200 }
        """;

    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ":", ",", "-", "&a", "*a", "!!map", "'", "\"", "\n", "  ", "\t", "#", "|", ">", "?", "%",
        "@",
        "1e309", "-0", "NaN", ".inf", "99999999999999999999", "2147483648", "-1", "0", "null", "~", "true", "yes",
        "seeds: { min: 3, max: 2 }", "seeds: { first: -1, min: 1, max: 2 }", "budget: 0", "max_depth: 99",
        "initial: [1, 1]", "initial: [100000, 100000]", "scale: log", "from: 0", "name: ..", "kind: synthetic",
        "planner: grid", "planner: random", "planner: [grid]", "max_depth: 12",
    ];

    private static string Mutate(Random r, string text)
    {
        var s = new System.Text.StringBuilder(text);
        int edits = 1 + r.Next(3);
        for (int e = 0; e < edits; e++)
        {
            int at = r.Next(s.Length + 1);
            switch (r.Next(5))
            {
                case 0:
                    if (s.Length > 0)
                        s.Remove(Math.Min(at, s.Length - 1),
                            Math.Min(1 + r.Next(12), s.Length - Math.Min(at, s.Length - 1)));
                    break;
                case 1: s.Insert(at, Tokens[r.Next(Tokens.Length)]); break;
                case 2: s.Insert(at, (char)r.Next(32, 127)); break;
                case 3:
                    var lines = s.ToString().Split('\n').ToList();
                    int l = r.Next(lines.Count);
                    lines.Insert(r.Next(lines.Count + 1), lines[l]);   // a duplicated line (duplicate keys)
                    s = new System.Text.StringBuilder(string.Join('\n', lines));
                    break;
                default:
                    s.Insert(at, "\n" + Tokens[r.Next(Tokens.Length)] + ": " + Tokens[r.Next(Tokens.Length)] + "\n");
                    break;
            }
        }
        return s.ToString();
    }

    private static string RandomDocument(Random r)
    {
        var s = new System.Text.StringBuilder();
        for (int k = 0, n = r.Next(1, 30); k < n; k++)
            s.Append(Tokens[r.Next(Tokens.Length)]).Append(r.Next(3) == 0 ? "\n" : " ");
        return s.ToString();
    }

    [Fact]
    public void Random_and_mutated_specs_parse_or_are_refused_with_one_line()
    {
        var r = new Random(12);
        int parsed = 0, refused = 0;
        for (int i = 0; i < 600; i++)
        {
            string yaml = i % 4 == 3 ? RandomDocument(r) : Mutate(r, Valid);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                SweepSpec.Parse(yaml, SweepSpecTests.Kinds);
                parsed++;
            }
            catch (SpecException e)
            {
                Assert.False(e.Message.Contains('\n'), $"a multi-line refusal for:\n{yaml}\n---\n{e.Message}");
                Assert.False(string.IsNullOrWhiteSpace(e.Message), $"an empty refusal for:\n{yaml}");
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{e.GetType().Name} ({e.Message}) for spec #{i}:\n{yaml}");
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"spec #{i} took {clock.Elapsed}:\n{yaml}");
        }
        Assert.True(parsed > 10 && refused > 200,
            $"{parsed} parsed, {refused} refused: the mutations should exercise both");
    }
}
