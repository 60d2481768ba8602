namespace RichLazyOrleans.Deploy.Tests;

/// <summary>
/// The project's rule, enforced: no C# source line over 120 characters (issue 22). Generated documentation
/// (docs/spec-keys.md, docs/cli.md) is Markdown, not C#, and is not checked. Characters are counted as .NET
/// counts them (UTF-16 code units), which for this code's text (Greek letters, arrows, ≤) equals what an editor
/// shows.
/// </summary>
public class SourceLineTests
{
    public const int MaxLength = 120;

    /// <summary>Every .cs file of the repository's code and tests (build outputs left out).</summary>
    private static IEnumerable<string> SourceFiles() =>
        new[] { "src", "silo", "client", "tests" }
            .Select(d => Repo.PathOf(d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(p => p is "obj" or "bin"));

    [Fact]
    public void No_source_line_is_longer_than_120_characters()
    {
        var files = SourceFiles().ToList();
        Assert.True(files.Count > 100, $"found only {files.Count} source files under {Repo.Root}");
        var over = files
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, line.Length)))
            .Where(l => l.Length > MaxLength)
            .Select(l => $"{Path.GetRelativePath(Repo.Root, l.File)}:{l.Line} ({l.Length})")
            .ToList();
        Assert.True(over.Count == 0,
            $"{over.Count} line(s) over {MaxLength} characters:\n" + string.Join("\n", over.Take(50)));
    }
}
