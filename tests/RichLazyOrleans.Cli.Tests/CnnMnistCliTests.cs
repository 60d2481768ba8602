using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// `cnn-mnist`: spec parsing, bad keys, the output contract through the CLI, filter PNGs, the bench, a tiny
/// α sweep, and an embedded α sweep SIGKILLed mid-run whose rerun resumes from saved states.
/// Data: small synthetic digits written as IDX files by the test (never a download).
/// </summary>
public class CnnMnistCliTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("richlazy-cnn-data-").FullName;

    public CnnMnistCliTests()
    {
        // 12x12 digits: big enough for two poolings, small enough for a fast test.
        foreach (var (prefix, n, seed) in new[] { ("train", 400, 1UL), ("t10k", 100, 1UL) })
        {
            var d = prefix == "train"
                ? SyntheticDigits.Generate(n, seed, size: 12)
                : SyntheticDigits.GenerateTest(n, seed, size: 12);
            Idx.Write(Path.Combine(_data, $"{prefix}-images-idx3-ubyte.gz"), IdxType.UByte, [d.Count, d.Rows, d.Cols],
                d.Images.Select(v => Math.Round(v * 255)).ToArray(), gzip: true);
            Idx.Write(Path.Combine(_data, $"{prefix}-labels-idx1-ubyte"), IdxType.UByte, [d.Count],
                d.Labels.Select(l => (double)l).ToArray());
        }
    }

    public void Dispose() => Directory.Delete(_data, true);

    private string Small => $$""" "data_dir": "{{_data}}", "channels1": 4, "channels2": 6, "kernel": 3,"""
        + """ "smoothness_cutoff": 0.7, "batch_size": 32, "probe_size": 4, "eval_size": 200 """;

    [Theory]
    [InlineData(""" "alpha": 0 """, "alpha")]
    [InlineData(""" "kernel": 4 """, "kernel")]
    [InlineData(""" "kernel": 1 """, "kernel")]
    [InlineData(""" "smoothness_cutoff": 0.5 """, "smoothness_cutoff")]   // 3x3: nothing below 0.667 of Nyquist
    [InlineData(""" "momentum": 1 """, "momentum")]
    [InlineData(""" "filter_images": "yes" """, "filter_images")]
    [InlineData(""" "filter_images": true """, "filter_images")]            // and nowhere to write them
    [InlineData(""" "checkpoint_every": 10 """, "checkpoint_every")]
    [InlineData(""" "checkpoints": [0, 500] """, "checkpoints")]
    [InlineData(""" "device": "cuda" """, "device")]
    [InlineData(""" "train_images": "/nonexistent/train-images" """, "train_images")]
    [InlineData(""" "data_dir": "/nonexistent" """, "data_dir")]
    [InlineData(""" "chanels1": 4 """, "chanels1")]
    public void Bad_keys_give_one_line_errors_naming_the_key(string body, string key)
    {
        var spec = JsonNode.Parse($$"""{ {{Small}}, "steps": 100 }""")!.AsObject();
        foreach (var (k, v) in JsonNode.Parse($"{{ {body} }}")!.AsObject()) spec[k] = v?.DeepClone();
        var e = Assert.Throws<SpecException>(() => RunKindRegistry.Get("cnn-mnist").Validate(new Spec(spec)));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains($"'{key}'", e.Message);
    }

    [Fact]
    public void Data_dir_finds_the_standard_names_plain_or_gzipped()
    {
        var c = CnnMnistRun.Parse(new Spec(JsonNode.Parse($$"""{ "data_dir": "{{_data}}" }""")!.AsObject()));
        Assert.Equal(Path.Combine(_data, "train-images-idx3-ubyte.gz"), c.TrainImages);
        Assert.Equal(Path.Combine(_data, "train-labels-idx1-ubyte"), c.TrainLabels);
        Assert.Equal(Path.Combine(_data, "t10k-images-idx3-ubyte.gz"), c.TestImages);
        // Defaults as documented.
        Assert.Equal((16, 32, 5, 0.05, 64, 2000L, 32),
            (c.Channels1, c.Channels2, c.Kernel, c.Lr, c.BatchSize, c.Steps, c.ProbeSize));
        Assert.Equal([0L, 10, 100, 1000, 2000], c.Checkpoints);
        var e = Assert.Throws<SpecException>(() =>
            CnnMnistRun.Parse(new Spec(JsonNode.Parse("""{ "steps": 10 }""")!.AsObject())));
        Assert.Contains("'train_images'", e.Message);
    }

    [Fact]
    public void Cli_run_prints_the_contract_keys_and_writes_filter_pngs()
    {
        string filters = Directory.CreateTempSubdirectory("richlazy-cnn-filters-").FullName;
        // filters_dir alone asks for the PNGs; it may be shared by runs, so the names tell runs apart.
        var r = CliProcess.Run("run", "cnn-mnist", "--spec", CliProcess.SpecFile(
            $$"""{ {{Small}}, "steps": 60, "checkpoints": [0, 60], "filters_dir": "{{filters}}" }"""));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = JsonNode.Parse(r.Stdout)!.AsArray();
        Assert.Equal([0L, 60L], rows.Select(x => x!["step"]!.GetValue<long>()));
        foreach (var key in new[]
        {
            "train_loss", "train_accuracy", "test_loss", "test_accuracy", "kernel_distance", "parameter_distance",
            "filter_smoothness", "status", "resumed_from_step",
        })
            Assert.All(rows, x => Assert.True(x!.AsObject().ContainsKey(key), key));
        Assert.True(rows[1]!["kernel_distance"]!.GetValue<double>() > 0);
        Assert.Contains("white-noise filter smoothness", r.Stderr);
        var pngs = Directory.GetFiles(filters, "*.png").Select(f => Path.GetFileName(f)).Order().ToArray();
        Assert.Equal(2, pngs.Length);
        Assert.Matches(@"^filters-alpha1-seed0-[0-9a-f]{8}-00000000\.png$", pngs[0]);
        Assert.Equal(pngs[0].Replace("-00000000.png", "-00000060.png"), pngs[1]);
        // Another alpha into the same directory does not overwrite them.
        Assert.Equal(0, CliProcess.Run("run", "cnn-mnist", "--spec", CliProcess.SpecFile(
            $$"""{ {{Small}}, "alpha": 2, "steps": 0, "checkpoints": [0], "filters_dir": "{{filters}}" }""")).ExitCode);
        Assert.Equal(3, Directory.GetFiles(filters, "*.png").Length);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' },
            File.ReadAllBytes(Path.Combine(filters, pngs[0])).Take(4));
        Directory.Delete(filters, true);
    }

    [Fact]
    public void Bench_reports_the_step_against_its_gemm_bound()
    {
        // The step time is (time of 2S steps − time of S steps)/S: with S = 2 machine noise made it negative once
        // (CI-like run, engine/bound = −1.14); 40 steps and the median of 3 keep the difference well above the noise.
        var r = CliProcess.Run("bench", "cnn-mnist", "--steps", "40", "--repeats", "3", "--batch", "8");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var ratio = System.Text.RegularExpressions.Regex.Match(r.Stdout, @"engine/bound = ([0-9.]+)");
        Assert.True(ratio.Success, r.Stdout);
        Assert.True(double.Parse(ratio.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Contains("empirical NTK", r.Stdout);
    }

    private static string SpecFile(string yaml)
    {
        string path = Path.Combine(Path.GetTempPath(), $"richlazy-cnn-sweep-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public async Task A_tiny_alpha_sweep_writes_the_metrics_to_parquet_and_plots_learning_curves()
    {
        string yaml = $$"""
            name: cnn-tiny
            kind: cnn-mnist
            params: { {{Small}}, "steps": 20, "checkpoints": [0, 10, 20], "filter_images": true }
            axes:
              alpha: { from: 1, to: 4, scale: log }
            seeds: [0, 1]
            grid: { initial: [2] }
            """;
        string dir = Directory.CreateTempSubdirectory("richlazy-cnn-sweep-").FullName;
        var r = CliProcess.Run("sweep", "run", SpecFile(yaml), "--out", dir, "--slots", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(12, rows.Count);   // 2 alphas x 2 seeds x 3 checkpoints
        Assert.All(rows, x => Assert.True(
            x.FilterSmoothness is >= 0 and <= 1 && x.KernelDistance is >= 0 && x.TestAccuracy is >= 0));
        Assert.Equal([1.0, 4.0], rows.Select(x => Math.Round(x.Alpha!.Value, 9)).Distinct().Order());
        // Filter PNGs land in each run's checkpoint directory.
        Assert.Equal(12, Directory.GetFiles(Path.Combine(dir, "checkpoints"), "filters-*.png",
            SearchOption.AllDirectories).Length);

        var plot = CliProcess.Run("plot", dir, "--curves", "--metric", "kernel_distance");
        Assert.True(plot.ExitCode == 0, plot.Stderr);
        string png = Path.Combine(dir, "curves-kernel_distance.png");
        Assert.Contains(png, plot.Stdout);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png).Take(4));
        var bad = CliProcess.Run("plot", dir, "--curves", "--metric", "nonsense");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("'nonsense'", bad.Stderr);
        Directory.Delete(dir, true);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task An_alpha_sweep_killed_mid_run_resumes_its_runs_from_saved_states_with_the_rows_of_a_clean_run()
    {
        string yaml = $$"""
            name: cnn-kill
            kind: cnn-mnist
            params: { {{Small}}, "steps": 3000, "checkpoints": [0, 1000, 3000], "checkpoint_every": 200 }
            axes:
              alpha: { from: 1, to: 4, scale: log }
            grid: { initial: [2] }
            """;
        string spec = SpecFile(yaml);
        string dir = Directory.CreateTempSubdirectory("richlazy-cnn-kill-").FullName,
            clean = Directory.CreateTempSubdirectory("richlazy-cnn-clean-").FullName;
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "richlazy.dll"), "sweep", "run", spec, "--out", dir, "--slots", "2",
        })
            psi.ArgumentList.Add(a);
        string checkpoints = Path.Combine(dir, "checkpoints");
        using (var victim = Process.Start(psi)!)
        try
        {
            // Killed once some run has saved a state past step 1000 (its row at 1000 may or may not be written).
            static bool SavedPast1000(string d) => Directory.Exists(d)
                && Directory.EnumerateFiles(d, "state-*.bin", SearchOption.AllDirectories)
                    .Any(f => long.Parse(Path.GetFileNameWithoutExtension(f)[6..]) > 1000);
            for (var deadline = DateTime.UtcNow.AddSeconds(240); !SavedPast1000(checkpoints); Thread.Sleep(20))
            {
                Assert.False(victim.HasExited, "the sweep finished before it could be killed; make the runs longer");
                Assert.True(DateTime.UtcNow < deadline, "no state past step 1000 appeared in time");
            }
        }
        finally
        {
            // SIGKILL (also when an assertion above failed: no orphan sweep left running).
            if (!victim.HasExited) victim.Kill(entireProcessTree: true);
            victim.WaitForExit();
        }
        var again = CliProcess.Run("sweep", "run", spec, "--out", dir, "--slots", "2");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.True(CliProcess.Run("sweep", "run", spec, "--out", clean, "--slots", "2").ExitCode == 0);

        var rows = await ResultFiles.ReadAllAsync(dir);
        var expected = await ResultFiles.ReadAllAsync(clean);
        Assert.Equal(6, expected.Count);   // 2 runs x 3 checkpoints
        Assert.Equal(rows.Count, rows.Select(x => (x.RunId, x.Step)).Distinct().Count());   // nothing written twice
        Assert.Contains(rows, x => x.ResumedFromStep > 1000);   // some run went on from its saved state, not from 0
        // Every metric of every row equals the clean run's, bit for bit (resume is exact).
        static string Key(ResultRow x) => $"{x.RunId}/{x.Step}: {x.TrainLoss:R} {x.TestLoss:R} {x.TrainAccuracy:R} "
            + $"{x.TestAccuracy:R} {x.KernelDistance:R} {x.ParameterDistance:R} {x.FilterSmoothness:R}";
        Assert.Equal(expected.Select(Key).Order(), rows.Select(Key).Order());
        Assert.All(rows, x => Assert.NotNull(x.FilterSmoothness));
        Directory.Delete(dir, true);
        Directory.Delete(clean, true);
    }
}
