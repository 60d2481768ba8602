using Microsoft.Extensions.Logging.Abstractions;
using RichLazyOrleans.Engine;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using Xunit;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>
/// A results folder belongs to one sweep, inside the results root, and every file a kind opens goes through the
/// path check (issue 23, parts 9 and 10; each case reproduced from a probe of a shared silo).
/// </summary>
public sealed class ResultsFolderTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("rl-folder-").FullName;
    private string Root => Path.Combine(_tmp, "results");
    private string Data => Path.Combine(_tmp, "data");

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private const string Yaml = """
        name: folder
        kind: synthetic
        params: { delta: 0, c0: 0, c1: 0.5, c2: 0, width: 0.1 }
        axes:
          tau: { from: 0.1, to: 1, scale: log }
        grid: { initial: [3] }
        """;

    [Fact]
    public void The_results_root_itself_is_refused_as_out()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Data);
        var roots = PathRoots.Create(Root, Data);
        SweepRuns.Validate(Yaml, KindCatalog.Kinds, "folder", Path.Combine(Root, "folder"), roots);
        var e = Assert.Throws<SpecException>(() => SweepRuns.Validate(Yaml, KindCatalog.Kinds, "folder", Root, roots));
        Assert.Contains("is the results root itself", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task A_folder_holding_another_sweeps_spec_or_rows_is_refused_at_start()
    {
        string dir = Path.Combine(_tmp, "a");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "sweep.yaml"), "name: first   # finished\nkind: synthetic\n");
        var sink = new ResultSink("second", dir, NullLogger.Instance);
        var e = await Assert.ThrowsAsync<SpecException>(() =>
            sink.ReadLedgerAsync(new Dictionary<string, FinishedRun>(), "name: second\n"));
        Assert.Contains("holds the results of sweep 'first'", e.Message);

        // Rows of another sweep in runs/ with no sweep.yaml at all: refused too.
        string rowsOnly = Path.Combine(_tmp, "b");
        await ResultFiles.WriteBatchAsync(rowsOnly, "first-1", [new ResultRow { SweepId = "first", RunId = "p0-s0" }]);
        e = await Assert.ThrowsAsync<SpecException>(() => new ResultSink("second", rowsOnly, NullLogger.Instance)
            .ReadLedgerAsync(new Dictionary<string, FinishedRun>(), "name: second\n"));
        Assert.Contains("'first'", e.Message);

        // The same sweep again (a rerun to complete it) is not refused; a restore (no spec) neither.
        File.WriteAllText(Path.Combine(dir, "sweep.yaml"), "name: second\n");
        await new ResultSink("second", dir, NullLogger.Instance)
            .ReadLedgerAsync(new Dictionary<string, FinishedRun>(), "name: second\n");
        await new ResultSink("second", rowsOnly, NullLogger.Instance)
            .ReadLedgerAsync(new Dictionary<string, FinishedRun>());
    }

    [Fact]
    public void A_link_planted_under_an_implicit_mnist_name_is_refused()
    {
        string mnist = Path.Combine(Data, "mnist");
        Directory.CreateDirectory(mnist);
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(_tmp, "secret"), "SECRET");
        File.CreateSymbolicLink(Path.Combine(mnist, "train-images-idx3-ubyte"), Path.Combine(_tmp, "secret"));
        var roots = PathRoots.Create(Root, Data);
        var spec = new System.Text.Json.Nodes.JsonObject { ["data_dir"] = mnist };
        var e = Assert.Throws<SpecException>(() => roots.Check(RunKindRegistry.Get("cnn-mnist"), spec));
        Assert.Contains("outside this silo's data root", e.Message);
        Assert.DoesNotContain("SECRET", e.Message);
        // Given explicitly, a name inside the data root passes (the implicit names are checked only when used).
        File.Delete(Path.Combine(mnist, "train-images-idx3-ubyte"));
        roots.Check(RunKindRegistry.Get("cnn-mnist"), spec);
    }
}
