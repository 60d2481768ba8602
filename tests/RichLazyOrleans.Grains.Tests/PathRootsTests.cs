using RichLazyOrleans.Engine;
using System.Text.Json.Nodes;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>
/// A silo confines the paths a spec names to its roots (<see cref="PathRoots"/>): the gateway has no
/// authentication, and a run pointed at /etc used to write there or probe whether files exist.
/// </summary>
public class PathRootsTests : IDisposable
{
    private readonly string _tmp = Directory.CreateTempSubdirectory("rl-roots-").FullName;
    private readonly string _results, _data, _outside;
    private readonly PathRoots _roots;

    public PathRootsTests()
    {
        _results = Path.Combine(_tmp, "results");
        _data = Path.Combine(_tmp, "data");
        _outside = Path.Combine(_tmp, "elsewhere");
        Directory.CreateDirectory(_data);
        Directory.CreateDirectory(_outside);
        _roots = PathRoots.Create(_results, _data);
    }

    public void Dispose() => Directory.Delete(_tmp, recursive: true);

    private static string Refused(Action check) => Assert.Throws<SpecException>(check).Message;

    [Fact]
    public void Create_makes_the_results_root_and_resolves_both()
    {
        Assert.True(Directory.Exists(_results));
        Assert.Equal(PathRoots.RealPath(_results), _roots.Results);
        Assert.True(_roots.Confined);
        Assert.False(PathRoots.Unconfined.Confined);
    }

    [Fact]
    public void Writes_only_under_the_results_root_reads_under_either()
    {
        _roots.Check("--out", Path.Combine(_results, "sweep", "new", "deeper"), PathUse.Write);
        _roots.Check("--out", _results, PathUse.Write);
        _roots.Check("data_dir", Path.Combine(_data, "mnist"), PathUse.Read);
        _roots.Check("checkpoint_dir", Path.Combine(_results, "ckpt"), PathUse.Read);
        Assert.Contains("outside this silo's results root", Refused(() => _roots.Check("--out", _data, PathUse.Write)));
        Assert.Contains("outside this silo's data root",
            Refused(() => _roots.Check("inputs", Path.Combine(_outside, "x.npy"), PathUse.Read)));
        Assert.Contains("/etc/passwd", Refused(() => _roots.Check("train_images", "/etc/passwd", PathUse.Read)));
        // A sibling whose name starts like the root is not under it.
        Assert.Contains("outside", Refused(() => _roots.Check("--out", _results + "-evil", PathUse.Write)));
        // The embedded silo keeps today's freedom.
        PathRoots.Unconfined.Check("--out", "/etc/richlazy", PathUse.Write);
    }

    [Fact]
    public void Dot_dot_segments_are_refused()
    {
        string sneaky = _results + "/sweep/../../elsewhere";
        Assert.Contains("'..' is not allowed", Refused(() => _roots.Check("--out", sneaky, PathUse.Write)));
    }

    [Fact]
    public void A_link_inside_a_root_that_points_outside_is_outside()
    {
        string link = Path.Combine(_results, "link");
        File.CreateSymbolicLink(link, _outside);
        Assert.Contains(PathRoots.RealPath(_outside),
            Refused(() => _roots.Check("--out", Path.Combine(link, "sweep"), PathUse.Write)));
        // A relative link, and a dangling one (it would be created outside by the first write through it).
        File.CreateSymbolicLink(Path.Combine(_results, "rel"), "../elsewhere");
        Refused(() => _roots.Check("--out", Path.Combine(_results, "rel", "x"), PathUse.Write));
        File.CreateSymbolicLink(Path.Combine(_results, "dangling"), Path.Combine(_outside, "not-yet"));
        Refused(() => _roots.Check("--out", Path.Combine(_results, "dangling", "x"), PathUse.Write));
        // A link that stays inside is fine.
        Directory.CreateDirectory(Path.Combine(_results, "real"));
        File.CreateSymbolicLink(Path.Combine(_results, "inside"), Path.Combine(_results, "real"));
        _roots.Check("--out", Path.Combine(_results, "inside", "x"), PathUse.Write);
    }

    [Fact]
    public void A_root_reached_through_a_link_is_the_same_root()
    {
        string alias = Path.Combine(_tmp, "alias");
        File.CreateSymbolicLink(alias, _results);
        _roots.Check("--out", Path.Combine(alias, "x"), PathUse.Write);
        var viaAlias = PathRoots.Create(alias, _data);
        viaAlias.Check("--out", Path.Combine(_results, "x"), PathUse.Write);
    }

    [Fact]
    public void A_link_loop_is_one_line_not_a_hang()
    {
        File.CreateSymbolicLink(Path.Combine(_results, "a"), Path.Combine(_results, "b"));
        File.CreateSymbolicLink(Path.Combine(_results, "b"), Path.Combine(_results, "a"));
        Assert.Contains("symbolic links", Refused(() => _roots.Check("--out", Path.Combine(_results, "a", "x"),
            PathUse.Write)));
    }

    [Fact]
    public void Every_path_key_of_a_kind_is_checked_with_files_relative_to_data_dir()
    {
        var cnn = RunKindRegistry.Get("cnn-mnist");
        var spec = new JsonObject
        {
            ["data_dir"] = Path.Combine(_data, "mnist"),
            ["train_images"] = "train-images-idx3-ubyte",
            ["test_images"] = "/etc/passwd",
            ["checkpoint_dir"] = Path.Combine(_results, "c"),
            ["alpha"] = 1.0,
        };
        var paths = PathRoots.Of(cnn, spec).ToDictionary(p => p.Key);
        Assert.Equal(Path.Combine(_data, "mnist", "train-images-idx3-ubyte"), paths["train_images"].Path);
        Assert.Equal(PathUse.Write, paths["checkpoint_dir"].Use);
        Assert.Contains("key 'test_images'", Refused(() => _roots.Check(cnn, spec)));
        spec["test_images"] = "../../elsewhere/t10k";   // relative to data_dir, climbing out
        Refused(() => _roots.Check(cnn, spec));
        spec.Remove("test_images");
        _roots.Check(cnn, spec);
        spec["filters_dir"] = _data;   // images are writes
        Assert.Contains("key 'filters_dir'", Refused(() => _roots.Check(cnn, spec)));

        var ts = RunKindRegistry.Get("teacher-student");
        foreach (var key in new[] { "inputs", "targets", "test_inputs", "test_targets", "init_w", "init_a" })
            Assert.Contains($"key '{key}'", Refused(() => _roots.Check(ts, new JsonObject { [key] = "/etc/hosts" })));
        var grokking = RunKindRegistry.Get("grokking");
        Assert.Contains("key 'checkpoint_dir'",
            Refused(() => _roots.Check(grokking, new JsonObject { ["checkpoint_dir"] = "/tmp" })));
    }

    [Fact]
    public void Every_kind_that_reads_or_writes_files_declares_its_path_keys()
    {
        // A kind that accepts a path-like key (IRunKind.Keys, which a test holds against what its parser reads) must
        // declare it as a path key, or a shared silo would not confine it. (`command`'s workdir is left free: a silo
        // that runs commands at all lets them run any program.)
        string[] paths = ["checkpoint_dir", "data_dir", "filters_dir", "inputs", "targets", "test_inputs",
            "test_targets", "init_w", "init_a", "train_images", "train_labels", "test_images", "test_labels"];
        int checkedKeys = 0;
        foreach (var kind in RunKindRegistry.All)
        {
            var declared = kind.PathKeys.Select(k => k.Key).ToHashSet();
            foreach (var key in kind.Keys.Select(k => k.Name).Where(paths.Contains))
            {
                Assert.True(declared.Contains(key), $"{kind.Name}: '{key}' is not a path key");
                checkedKeys++;
            }
        }
        Assert.True(checkedKeys >= 15, $"only {checkedKeys} path keys found: are the kinds' Keys declared?");
    }

    [Fact]
    public void A_sweep_naming_paths_outside_the_roots_is_refused_before_it_starts()
    {
        string yaml(string extra) => "name: roots\nkind: teacher-student\n"
            + $"params: {{ delta: 0, n: 20, d: 3, m: 4, steps: 10{extra} }}\n"
            + "axes:\n  tau: { from: 0.1, to: 1, scale: log }\ngrid: { initial: [3] }\n";
        string ok = Path.Combine(_results, "roots");
        SweepRuns.Validate(yaml(""), KindCatalog.Kinds, "roots", ok, _roots);
        var e = Assert.Throws<SpecException>(() =>
            SweepRuns.Validate(yaml(""), KindCatalog.Kinds, "roots", _outside, _roots));
        Assert.StartsWith("--out:", e.Message);
        e = Assert.Throws<SpecException>(() => SweepRuns.Validate(yaml($", checkpoint_dir: {_outside}"),
            KindCatalog.Kinds, "roots", ok, _roots));
        Assert.Contains("key 'checkpoint_dir'", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));   // the write probe never ran there
        e = Assert.Throws<SpecException>(() => SweepRuns.Validate(yaml(", init_w: /etc/hostname"),
            KindCatalog.Kinds, "roots", ok, _roots));
        Assert.Contains("outside this silo's data root", e.Message);
    }
}
