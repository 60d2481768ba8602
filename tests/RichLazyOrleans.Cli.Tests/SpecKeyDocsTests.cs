using RichLazyOrleans.Engine;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// The key reference cannot drift from the parsers: every key a kind's parser reads (<see cref="Spec.ReadKeys"/>,
/// over a corpus of specs: the example sweeps, every JSON spec literal in the test sources, and specs written here
/// to take each branch) is declared in <see cref="IRunKind.Keys"/>; every declared key is read by some spec of the
/// corpus (so the kind accepts it); and docs/spec-keys.md, docs/cli.md and `run --help` are what the declarations
/// and the command tree generate now.
/// </summary>
public partial class SpecKeyDocsTests : IDisposable
{
    private static readonly string Root =
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
    private readonly string _data = Directory.CreateTempSubdirectory("richlazy-keys-").FullName;

    public SpecKeyDocsTests() => RichLazyOrleans.Training.SyntheticDigits.WriteIdx(_data, 20, 5, seed: 0);

    public void Dispose() => Directory.Delete(_data, true);

    private static IEnumerable<IRunKind> ClosedKinds => RunKindRegistry.All.Where(k => !k.Open);

    /// <summary>Specs written to reach the branches the other sources may miss (drawn inits, data, tasks, stop rules,
    /// the CNN learner, explicit IDX files). They need not be valid: every key read on the way counts.</summary>
    private string[] BranchSpecs() =>
    [
        """{ "beta_star": [1, 0.5], "a0": 0.1, "w0": [0.1, 0.2], "eta_a": 1, "eta_w": 2, "times": [0, 1] }""",
        """
            { "x": [[1, 0], [0, 1]], "y": [1, 2], "tau": 0.5, "alpha": 2, "w_dir": [1, 0], "times": [0],
              "solver": "numeric", "rtol": 1e-9, "atol": 1e-12 }
            """,
        """{ "beta_star": [1, 0.5], "tau": 0.5, "delta": 0.1, "w_dir": [1, 0], "times": [0] }""",
        """
            { "sigma_yx": [[1, 0], [0, 0.5]], "w1": [[0.1, 0], [0, 0.1]], "w2": [[0.1, 0], [0, 0.1]],
              "eta1": 1, "eta2": 1, "times": [0, 1], "solver": "auto", "rtol": 1e-9, "atol": 1e-12 }
            """,
        """
            { "x": [[1, 0], [0, 1]], "y": [[1, 0], [0, 1]], "tau": 0.5, "delta": 0.2, "hidden": 1, "init_seed": 3,
              "times": [0] }
            """,
        """
            { "tasks": [{ "sigma_yx": [[1, 0], [0, 1]], "duration": 1 }, { "sigma_yx": [[0, 1], [1, 0]],
              "duration": 1 }], "tau": 0.5, "alpha": 1.5, "times": [0, 1], "epsilon": 1e-3, "baseline": "scratch" }
            """,
        """
            { "sigma_yx": [[1, 0], [0, 1]], "weights": [[[0.1, 0], [0, 0.1]], [[0.1, 0], [0, 0.1]]],
              "etas": [1, 2], "times": [0], "rtol": 1e-9, "atol": 1e-12 }
            """,
        """{ "sigma_yx": [[1, 0], [0, 1]], "sizes": [2, 3, 2], "scale": 0.5, "alpha": 2, "seed": 1, "times": [0] }""",
        """
            { "model": "single-neuron", "x": [[1, 0, 0]], "y": [1], "a0": 0.1, "w0": [0.1, 0, 0], "eta_a": 1,
              "eta_w": 1, "t_end": 10, "rtol": 1e-9, "atol": 1e-12 }
            """,
        """{ "model": "single-neuron", "x": [[1, 0, 0]], "y": [1], "tau": 0.1, "delta": 0.5, "w_dir": [1, 1, 0] }""",
        """
            { "model": "two-layer-linear", "x": [[1, 0, 0]], "y": [[1, 0]], "w1": [[0.1, 0, 0], [0, 0.1, 0]],
              "w2": [[0.1, 0], [0, 0.1]], "eta1": 1, "eta2": 2 }
            """,
        """
            { "model": "two-layer-linear", "x": [[1, 0, 0]], "y": [[1, 0]], "tau": 0.1, "alpha": 2, "hidden": 1,
              "init_seed": 2 }
            """,
        """
            { "tau": 0.5, "delta": 0.1, "c0": 0, "c1": 0.5, "c2": 0, "cx2": 0.1, "cxd": 0.1, "width": 0.05,
              "noise": 0.1, "seed": 3, "duration_ms": 0, "duration_spread": 2 }
            """,
        $$"""
            { "tau": 0.5, "delta": 0.3, "seed": 1, "test_seed": 2, "n": 20, "d": 3, "m": 4, "m0": 2, "n_test": 10,
              "base_lr": 0.01, "steps": 100, "checkpoints": [0, 100], "dtype": "float32", "device": "cpu",
              "threads": 1, "divergence_loss": 1e6, "checkpoint_dir": "{{_data}}/c", "checkpoint_every": 10,
              "stop": "converged", "stop_tolerance": 1e-4, "stop_atol": 1e-8, "stop_check_every": 10,
              "stop_metrics": ["train_loss"] }
            """,
        """
            { "tau": 0.5, "alpha": 1.2, "lr": 0.1, "steps": 10, "inputs": "a.npy", "targets": "b.npy",
              "test_inputs": "c.npy", "test_targets": "d.npy", "init_w": "w.npy", "init_a": "a.npy" }
            """,
        $$"""
            { "p": 7, "train_fraction": 0.5, "seed": 1, "data_seed": 2, "alpha": 2, "layers": 2, "d_model": 8,
              "heads": 2, "d_mlp": 16, "layer_norm": "pre", "lr": 1e-3, "weight_decay": 1, "beta1": 0.9,
              "beta2": 0.98, "eps": 1e-8, "batch_size": 0, "steps": 5, "checkpoints": [0, 5], "eval_every": 1,
              "grok_accuracy": 0.9, "dtype": "float32", "device": "auto", "threads": 1, "divergence_loss": 1e6,
              "checkpoint_dir": "{{_data}}/c", "checkpoint_every": 1 }
            """,
        """
            { "v": 4, "s": 2, "L": 2, "m": 2, "n_classes": 4, "seed": 1, "init_seed": 2, "learner": "mlp",
              "alpha": 2, "width": 8, "depth": 2, "lr": 1e-3, "weight_decay": 0, "steps": 5, "batch_size": 0,
              "train_sizes": [8, 16], "test_size": 10, "target_accuracy": 0.9, "dtype": "float32", "device": "cpu",
              "threads": 1, "divergence_loss": 1e6 }
            """,
        """{ "v": 4, "s": 2, "L": 2, "m": 2, "learner": "cnn", "width": 8, "steps": 5 }""",
        $$"""
            { "data_dir": "{{_data}}", "train_size": 10, "test_size": 5, "seed": 1, "alpha": 2, "channels1": 4,
              "channels2": 4, "kernel": 3, "lr": 0.05, "momentum": 0.5, "weight_decay": 0, "batch_size": 4,
              "steps": 5, "checkpoints": [0, 5], "eval_size": 10, "probe_size": 4, "smoothness_cutoff": 0.7,
              "filter_images": true, "filters_dir": "{{_data}}/f", "dtype": "float32", "device": "cpu",
              "threads": 1, "divergence_loss": 1e6, "checkpoint_dir": "{{_data}}/c", "checkpoint_every": 1 }
            """,
        $$"""
            { "data_dir": "{{_data}}", "train_images": "train-images-idx3-ubyte",
              "train_labels": "train-labels-idx1-ubyte", "test_images": "t10k-images-idx3-ubyte",
              "test_labels": "t10k-labels-idx1-ubyte", "kernel": 5 }
            """,
    ];

    /// <summary>The run specs the example sweeps produce at both ends of every axis, as the coordinator builds them.
    /// </summary>
    private IEnumerable<JsonObject> ExampleSpecs()
    {
        string examples = Path.Combine(Root, "client", "RichLazyOrleans.Cli", "examples");
        foreach (var file in Directory.GetFiles(examples, "*.yaml", SearchOption.AllDirectories).Order())
        {
            var spec = SweepSpec.Parse(File.ReadAllText(file), KindCatalog.Kinds);
            foreach (var run in ExampleSpecsTests.RunsAtAxisEnds(spec, _data)) yield return run;
        }
    }

    [GeneratedRegex("\"\"\"\\s*\\+\\s*\\$*\"\"\"")]
    private static partial Regex JoinedRawStrings();

    /// <summary>
    /// Every JSON object literal in the test sources: raw strings (joined ones too, as the fuzz tests write them)
    /// and escaped ones in ordinary strings. Interpolated specs do not parse and are left out.
    /// </summary>
    private static IEnumerable<JsonObject> TestSourceSpecs()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "tests"), "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
                     .Order())
        {
            string source = JoinedRawStrings().Replace(File.ReadAllText(file), "").Replace("\\\"", "\"");
            for (int i = source.IndexOf('{'); i >= 0; i = source.IndexOf('{', i + 1))
            {
                int j = i + 1;
                while (j < source.Length && char.IsWhiteSpace(source[j])) j++;
                if (j >= source.Length || source[j] != '"') continue;
                int depth = 0, k = i;
                for (; k < source.Length && k - i < 8000; k++)
                {
                    if (source[k] == '{') depth++;
                    else if (source[k] == '}' && --depth == 0) break;
                }
                if (depth != 0 || k >= source.Length) continue;
                JsonNode? node = null;
                try { node = JsonNode.Parse(source[i..(k + 1)]); }
                catch (JsonException) { }
                if (node is JsonObject { Count: > 0 } o) yield return o;
            }
        }
    }

    private List<JsonObject> Corpus() =>
    [
        .. BranchSpecs().Select(s => JsonNode.Parse(s)!.AsObject()),
        .. ExampleSpecs(),
        .. TestSourceSpecs(),
    ];

    /// <summary>The keys a kind's parser asked for while validating <paramref name="json"/>, valid or not.</summary>
    private static IReadOnlyCollection<string> KeysRead(IRunKind kind, JsonObject json)
    {
        var spec = new Spec((JsonObject)json.DeepClone());
        try { kind.Validate(spec); }
        catch (SpecException) { }   // a refused spec still shows which keys were read on the way
        return spec.ReadKeys;
    }

    [Fact]
    public void The_corpus_is_large_and_reaches_every_closed_kind()
    {
        var corpus = Corpus();
        Assert.True(corpus.Count >= 150, $"only {corpus.Count} specs: did the harvest from the test sources break?");
        foreach (var kind in ClosedKinds)
            Assert.True(corpus.Count(s => Validates(kind, s)) >= 3, $"fewer than 3 valid specs for {kind.Name}");
    }

    private static bool Validates(IRunKind kind, JsonObject json)
    {
        try { kind.Validate(new Spec((JsonObject)json.DeepClone())); return true; }
        catch (SpecException) { return false; }
    }

    [Fact]
    public void Every_key_a_kind_reads_is_declared()
    {
        var undeclared = new SortedSet<string>();
        foreach (var json in Corpus())
            foreach (var kind in ClosedKinds)
            {
                var declared = kind.Keys.Select(k => k.Name).ToHashSet();
                foreach (var key in KeysRead(kind, json).Where(k => !declared.Contains(k)))
                    undeclared.Add($"{kind.Name}: {key}");
            }
        Assert.True(undeclared.Count == 0,
            "keys read but not declared in IRunKind.Keys: " + string.Join("; ", undeclared));
    }

    [Fact]
    public void Every_declared_key_is_read_by_some_spec_so_the_kind_accepts_it()
    {
        var corpus = Corpus();
        var unread = new List<string>();
        foreach (var kind in ClosedKinds)
        {
            var read = corpus.SelectMany(json => KeysRead(kind, json)).ToHashSet();
            unread.AddRange(kind.Keys.Select(k => k.Name).Where(k => !read.Contains(k))
                .Select(k => $"{kind.Name}: {k}"));
        }
        Assert.True(unread.Count == 0, "declared but never read by the parser: " + string.Join("; ", unread));
    }

    [Fact]
    public void Declarations_are_unique_complete_and_cover_the_axes()
    {
        foreach (var kind in RunKindRegistry.All)
        {
            var names = kind.Keys.Select(k => k.Name).ToList();
            Assert.True(names.Count == names.Distinct().Count(), $"{kind.Name} declares a key twice");
            Assert.All(kind.Keys, k => Assert.False(
                string.IsNullOrWhiteSpace(k.Default) || string.IsNullOrWhiteSpace(k.Description),
                $"{kind.Name}.{k.Name} needs a default and a description"));
            Assert.Subset(names.ToHashSet(), kind.AxisParameters.ToHashSet());
            if (kind.HasSeed && !kind.Open) Assert.Contains("seed", names);
        }
        // The open kind reads its own keys off the JSON directly: its declaration is the reserved list plus the two
        // keys every kind of run shares.
        var command = RunKindRegistry.Get("command").Keys.Select(k => k.Name).ToHashSet();
        Assert.Equal(new HashSet<string>([.. CommandRun.ReservedKeys, "threads", "checkpoint_dir"]), command);
    }

    [Fact]
    public void Docs_spec_keys_md_is_what_the_declarations_generate()
    {
        string path = Path.Combine(Root, "docs", "spec-keys.md");
        string expected = SpecKeyReference.Markdown(RunKindRegistry.All);
        Assert.True(File.Exists(path) && File.ReadAllText(path) == expected,
            $"docs/spec-keys.md is out of date with IRunKind.Keys; regenerate it: {SpecKeyReference.Regenerate}");
    }

    [Fact]
    public void Docs_cli_md_is_what_the_command_tree_generates()
    {
        var r = CliProcess.Run("docs", "cli");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string path = Path.Combine(Root, "docs", "cli.md");
        Assert.True(File.Exists(path) && File.ReadAllText(path) == r.Stdout,
            "docs/cli.md is out of date with the commands' options; regenerate it: ./richlazy docs cli > docs/cli.md");
        foreach (var command in new[] { "run", "sweep run", "sweep submit", "silo", "plot", "export", "docs cli" })
            Assert.Contains($"## `richlazy {command}`", r.Stdout);
    }

    [Fact]
    public void Run_help_lists_every_declared_key_of_every_kind()
    {
        var r = CliProcess.Run("run", "--help");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var kinds = RunKindRegistry.All;
        for (int i = 0; i < kinds.Count; i++)
        {
            int start = r.Stdout.IndexOf($"  {kinds[i].Name}: ", StringComparison.Ordinal);
            Assert.True(start >= 0, $"run --help has no line for {kinds[i].Name}");
            int end = i + 1 < kinds.Count
                ? r.Stdout.IndexOf($"  {kinds[i + 1].Name}: ", start, StringComparison.Ordinal)
                : r.Stdout.IndexOf("Usage:", start, StringComparison.Ordinal);
            var words = Regex.Matches(r.Stdout[start..end], "[A-Za-z_][A-Za-z0-9_]*").Select(m => m.Value)
                .ToHashSet();
            Assert.All(kinds[i].Keys, k => Assert.True(words.Contains(k.Name), $"{kinds[i].Name}: {k.Name} missing"));
        }
        Assert.Contains("divergence_loss", r.Stdout);
        Assert.Contains("test_seed", r.Stdout);
    }

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    [Fact]
    public void Links_between_the_docs_resolve()
    {
        var pages = Directory.GetFiles(Path.Combine(Root, "docs"), "*.md")
            .Append(Path.Combine(Root, "README.md")).Append(Path.Combine(Root, "silo", "README.md"));
        var broken = new List<string>();
        foreach (var page in pages)
            foreach (Match m in MarkdownLink().Matches(File.ReadAllText(page)))
            {
                string target = m.Groups[1].Value.Split('#')[0];
                if (target.Length == 0 || target.Contains("://", StringComparison.Ordinal)) continue;
                if (!Path.Exists(Path.Combine(Path.GetDirectoryName(page)!, target)))
                    broken.Add($"{Path.GetRelativePath(Root, page)}: {m.Groups[1].Value}");
            }
        Assert.True(broken.Count == 0, "links to missing files: " + string.Join("; ", broken));
    }
}
