using RichLazyOrleans.Engine;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Grains.Tests;

/// <summary>Sweeps on an in-process cluster of several silos (Orleans TestingHost).</summary>
public sealed class ClusterFixture : IDisposable
{
    public const int SlotsPerSilo = 2;
    public TestCluster Cluster { get; }

    public ClusterFixture()
    {
        Cluster = new TestClusterBuilder(3).AddSiloBuilderConfigurator<Configurator>().Build();
        Cluster.Deploy();
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo) => silo.AddRichLazy(SlotsPerSilo).AddInMemoryDurability();
    }

    /// <summary>Each silo's slot pool (to check that no silo ever ran more than its slots).</summary>
    public IEnumerable<SlotPool> Pools => Cluster.Silos.OfType<InProcessSiloHandle>()
        .Select(s => s.SiloHost.Services.GetRequiredService<SlotPool>());

    public void Dispose() => Cluster.StopAllSilos();
}

public class SweepClusterTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private static string Spec(string name, int budget, int durationMs, string seeds = "",
        string kind = "synthetic") => $$"""
        name: {{name}}
        kind: {{kind}}
        params: { c0: 0.1, c1: 0.6, c2: -0.3, width: 0.05, duration_ms: {{durationMs}} }
        axes:
          tau:   { from: 0.1, to: 10.0, scale: log }
          delta: { from: -1.0, to: 1.0 }
        {{seeds}}
        grid:   { initial: [5, 5] }
        refine: { metric: value, threshold: 0.5, max_depth: 2, budget: {{budget}} }
        """;

    private static async Task<SweepStatus> WaitFor(ISweepCoordinatorGrain g, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var s = await g.GetStatus();
            if (s.Finished) return s;
            Assert.True(DateTime.UtcNow < deadline, $"sweep did not finish: {s}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_sweep_completes_on_three_silos_within_their_slots_and_writes_one_row_per_run()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sweep-").FullName;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-a");
        await g.Start(new SweepRequest(Spec("cluster-a", 80, 20), dir));
        var s = await WaitFor(g, TimeSpan.FromMinutes(2));
        Assert.Equal("complete", s.State);
        Assert.Equal(0, s.Failed);
        Assert.True(s.GridPoints > 25 && s.GridPoints <= 80, $"{s.GridPoints} points");
        Assert.Equal(2, s.Depth);

        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(s.Done, rows.Count);                                       // synthetic: one row per run
        Assert.Equal(rows.Count, rows.Select(r => (r.RunId, r.Step)).Distinct().Count());
        Assert.Equal(s.GridPoints, rows.Select(r => (r.LatticeI, r.LatticeJ)).Distinct().Count());
        Assert.All(rows, r => Assert.Equal("cluster-a", r.SweepId));
        Assert.Contains(rows, r => r.Depth == 2);
        // Values are the synthetic field at each point's (tau, delta).
        foreach (var r in rows)
        {
            double z = (Math.Log10(r.Tau!.Value) - 0.1 - 0.6 * r.Delta!.Value
                + 0.3 * r.Delta.Value * r.Delta.Value) / 0.05;
            Assert.Equal(1 / (1 + Math.Exp(-z)), r.Value!.Value, 12);
        }
        Assert.All(fixture.Pools, p => Assert.InRange(p.MaxBusy, 0, ClusterFixture.SlotsPerSilo));
        Assert.True(fixture.Pools.Count(p => p.MaxBusy > 0) >= 2, "runs should be spread over the silos");
    }

    [Fact]
    public async Task Every_axis_is_a_column_and_each_row_carries_its_runs_spec()
    {
        // Axes other than tau, delta and alpha used to leave only lattice_i/j in the files.
        string dir = Directory.CreateTempSubdirectory("rl-sweep-").FullName;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-axes");
        await g.Start(new SweepRequest("""
            name: cluster-axes
            kind: synthetic
            params: { tau: 1.0, delta: 0.0, c1: 0.6, c2: 0, duration_ms: 1 }
            axes:
              c0:    { from: -0.5, to: 0.5 }
              width: { from: 0.01, to: 1.0, scale: log }
            grid: { initial: [3, 4] }
            """, dir));
        Assert.Equal("complete", (await WaitFor(g, TimeSpan.FromMinutes(1))).State);
        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(12, rows.Count);
        Assert.Equal([-0.5, 0, 0.5], rows.Select(r => r.Metric("c0")!.Value).Distinct().Order());
        Assert.Equal(4, rows.Select(r => r.Metric("width")).Distinct().Count());
        foreach (var r in rows)
        {
            var spec = System.Text.Json.Nodes.JsonNode.Parse(r.ParamsJson)!;
            Assert.Equal(spec["c0"]!.GetValue<double>(), r.Metric("c0"));
            Assert.Equal(spec["width"]!.GetValue<double>(), r.Metric("width"));
            Assert.Equal(r.Seed, spec["seed"]!.GetValue<long>());
            double z = (0 - r.Metric("c0")!.Value) / r.Metric("width")!.Value;   // tau = 1, delta = 0
            Assert.Equal(1 / (1 + Math.Exp(-z)), r.Value!.Value, 12);
        }
        foreach (var file in Directory.GetFiles(ResultFiles.RunsDirectory(dir), "*.parquet"))
        {
            var names = (await ResultParquet.ReadSchemaAsync(file)).GetDataFields().Select(f => f.Name).ToList();
            // Exactly the sweep's schema: the fixed columns, its axes and its kind's metric; no other kind's.
            Assert.Equal(ResultParquet.FixedNames.Concat(["c0", "value", "width"]).Order(), names.Order());
        }
        // manifest.json says what produced the results.
        var manifest = SweepManifest.Read(dir)!;
        Assert.Equal(("cluster-axes", "synthetic", "complete"), (manifest.SweepId, manifest.Kind, manifest.State));
        Assert.NotNull(manifest.FinishedAt);
        Assert.True(manifest.StartedAt <= manifest.FinishedAt);
        Assert.NotEmpty(manifest.Silos);
        Assert.All(rows, r => Assert.Contains(r.Silo, manifest.Silos));
        Assert.Matches("^[0-9a-f]{64}$", manifest.SpecSha256);
        Assert.StartsWith("libtorch-", manifest.LibTorch);
        Assert.NotNull(manifest.TorchSharp);
        Assert.Equal(typeof(SweepManifest).Assembly.GetName().Version!.ToString(3), manifest.Version.Split('+')[0]);
    }

    [Fact]
    public async Task Teacher_student_rows_stream_during_runs_and_each_run_and_checkpoint_is_written_once()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sweep-ts-").FullName;
        const string spec = """
            name: cluster-ts
            kind: teacher-student
            params:
              delta: 0.3
              n: 100
              d: 10
              m: 10
              n_test: 100
              steps: 60000
              checkpoints: [0, 10, 100, 1000, 60000]
            axes:
              tau: { from: 0.2, to: 1.0, scale: log }
            seeds: [1, 2]
            grid: { initial: [3] }
            """;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-ts");
        await g.Start(new SweepRequest(spec, dir));
        // Streaming: while the sweep runs, some run's early checkpoints are on disk before its last one.
        bool streamed = false;
        SweepStatus s;
        for (var deadline = DateTime.UtcNow.AddMinutes(3); !(s = await g.GetStatus()).Finished; await Task.Delay(100))
        {
            Assert.True(DateTime.UtcNow < deadline, $"sweep did not finish: {s}");
            if (!streamed && s.State == "running")
                streamed = (await ResultFiles.ReadAllAsync(dir)).GroupBy(r => r.RunId)
                    .Any(run => run.All(r => r.Step != 60000));
        }
        Assert.Equal("complete", s.State);
        Assert.Equal(6, s.Done);
        Assert.True(streamed, "rows of a run should reach the files before the run finishes");
        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(6 * 5, rows.Count);                                          // runs × checkpoints
        Assert.Equal(rows.Count, rows.Select(r => (r.RunId, r.Step)).Distinct().Count());
        // Batch files are merged when a sweep ends with more than 16 (ResultSinkTests test the merge); nothing
        // hidden is left either way.
        Assert.InRange(Directory.GetFiles(Path.Combine(dir, "runs"), "*.parquet").Length, 1,
            ResultSink.MinFilesToCompact);
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, "runs"), ".*"));
        Assert.All(rows.GroupBy(r => r.RunId),
            run => Assert.Equal([0L, 10L, 100L, 1000L, 60000L], run.Select(r => r.Step).Order()));
        // Resumable kinds keep their states beside the results.
        Assert.Equal(6, Directory.GetDirectories(Path.Combine(dir, "checkpoints")).Length);
    }

    /// <summary>Issue 12: a checkpoint_dir in a sweep's params was shared by every run, so runs overwrote each
    /// other's saved states; each run now saves under its own subdirectory of it.</summary>
    [Fact]
    public async Task A_checkpoint_dir_in_params_gives_every_run_its_own_subdirectory()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sweep-ckpt-").FullName;
        string states = Path.Combine(dir, "states");
        Assert.Equal("complete", (await RunCheckpointDirSweep("cluster-ckpt", dir, states, 400,
            "checkpoint_every: 100, ")).State);
        var runs = (await ResultFiles.ReadAllAsync(dir)).Select(r => r.RunId).Distinct().Order().ToList();
        Assert.Equal(4, runs.Count);
        Assert.Equal(runs, Directory.GetDirectories(states).Select(Path.GetFileName).Order());
        Assert.All(runs, run => Assert.NotEmpty(Directory.GetFiles(Path.Combine(states, run), "state-*.bin")));
    }

    /// <summary>A teacher-student sweep NAME (4 runs: 2 points x 2 seeds) with the params' checkpoint_dir at
    /// <paramref name="states"/>, results in <paramref name="dir"/>; waits (at most 2 minutes) for it to end.</summary>
    private async Task<SweepStatus> RunCheckpointDirSweep(string name, string dir, string states, int steps,
        string extraParams = "")
    {
        string spec = $$"""
            name: {{name}}
            kind: teacher-student
            params: { delta: 0.3, n: 50, d: 5, m: 4, n_test: 50, steps: {{steps}}, checkpoints: [0, {{steps}}],
              {{extraParams}}checkpoint_dir: '{{states}}' }
            axes:
              tau: { from: 0.2, to: 1.0, scale: log }
            seeds: [1, 2]
            grid: { initial: [2] }
            """;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>(name);
        await g.Start(new SweepRequest(spec, dir));
        return await WaitFor(g, TimeSpan.FromMinutes(2));
    }

    /// <summary>Issue 12: why runs failed was only on the silo's stderr; status counts failed runs by reason.</summary>
    [Fact]
    public async Task Status_counts_failed_runs_by_reason()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sweep-fail-").FullName;
        string states = Path.Combine(dir, "states");
        Directory.CreateDirectory(states);
        File.WriteAllText(Path.Combine(states, "p0-s1"), "a file where run p0-s1 wants its checkpoint directory");
        var s = await RunCheckpointDirSweep("cluster-fail", dir, states, 100);
        Assert.Equal((3, 1), (s.Done, s.Failed));
        Assert.StartsWith("1x ", s.Failures);
        Assert.Contains("p0-s1", s.Failures);
        Assert.Null(SweepFailures.Count([new(0, 0, 1, true, 0.5, null)]));
        // Runs that fail alike on their own files are one reason (a full disk named each run's checkpoint).
        Assert.Equal("2x IOException: No space left on device : '…/ckpt-5.bin'", SweepFailures.Count(
        [
            new(0, 0, 1, false, null, "IOException: No space left on device : '/out/checkpoints/p0-s0/ckpt-5.bin'"),
            new(1, 0, 1, false, null, "IOException: No space left on device : '/out/checkpoints/p1-s0/ckpt-5.bin'"),
        ]));
        Assert.Equal("2x b; 1x a", SweepFailures.Count(
            [new(0, 0, 1, false, null, "a"), new(0, 0, 2, false, null, "b"), new(0, 0, 3, false, null, "b")]));
    }

    [Fact]
    public async Task Cancel_stops_dispatch_and_every_started_run_is_recorded()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sweep-").FullName;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-cancel");
        await g.Start(new SweepRequest(Spec("cluster-cancel", 200, 100), dir));
        await Task.Delay(300);
        var atCancel = await g.Cancel();
        Assert.Equal(0, atCancel.Queued);
        var s = await WaitFor(g, TimeSpan.FromMinutes(1));
        Assert.Equal("cancelled", s.State);
        // Exactly the runs done or in flight (running or waiting for a slot) at the cancel are recorded: nothing new
        // was dispatched.
        Assert.Equal(atCancel.Done + atCancel.Failed + atCancel.Running + atCancel.Waiting, s.Done + s.Failed);
        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(s.Done, rows.Count);
    }

    [Fact]
    public async Task Stop_makes_running_runs_stop_now_and_resume_continues_them()
    {
        // Cluster mode: Ctrl+C on `sweep run --redis` only stopped dispatch, and runs of hours went on.
        string dir = Directory.CreateTempSubdirectory("rl-sweep-").FullName;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-stop");
        await g.Start(new SweepRequest(Spec("cluster-stop", 25, 60_000), dir));   // one-minute runs
        for (var deadline = DateTime.UtcNow.AddSeconds(20); (await g.GetStatus()).Running == 0; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "no run started");
        // The window is twice the slots: every slot runs one, the rest wait on their silo and are counted apart.
        int slots = fixture.Pools.Sum(p => p.Slots);
        SweepStatus full = await g.GetStatus();
        for (var deadline = DateTime.UtcNow.AddSeconds(20); full.Running < slots; full = await g.GetStatus())
            Assert.True(DateTime.UtcNow < deadline, $"{full.Running} of {slots} slots running");
        Assert.Equal(slots, full.Running);
        Assert.Equal(slots, full.Waiting);
        Assert.Equal(slots, fixture.Pools.Sum(p => p.Busy));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await g.Stop();
        var s = await WaitFor(g, TimeSpan.FromSeconds(20));
        Assert.Equal("cancelled", s.State);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"stopping took {clock.Elapsed}");
        Assert.Equal(0, s.Done + s.Failed);   // stopped, not finished or failed
        Assert.Empty(await ResultFiles.ReadAllAsync(dir));

        // Resume dispatches them again (they start over: synthetic runs keep no state).
        var resumed = await g.Resume();
        Assert.Equal("running", resumed.State);
        for (var deadline = DateTime.UtcNow.AddSeconds(20); (await g.GetStatus()).Running == 0; await Task.Delay(50))
            Assert.True(DateTime.UtcNow < deadline, "no run started again after resume");
        await g.Stop();
        Assert.Equal("cancelled", (await WaitFor(g, TimeSpan.FromSeconds(20))).State);
    }

    [Fact]
    public async Task Seeds_multiply_runs_and_a_bad_spec_is_refused_with_the_key()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sweep-").FullName;
        var bad = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-bad");
        var e = await Assert.ThrowsAsync<SpecException>(
            () => bad.Start(new SweepRequest(Spec("cluster-bad", 10, 0), dir)));
        Assert.Contains("refine.budget", e.Message);
        // A deterministic kind (exact theory) takes no seed, so several seeds would only repeat its runs.
        const string deterministic = """
            name: cluster-seeds
            kind: single-neuron
            params: { beta_star: [1.0], w_dir: [1.0], times: [0, 1e9] }
            axes:
              tau:   { from: 0.1, to: 10.0, scale: log }
              delta: { from: -1.0, to: 1.0 }
            seeds: [1, 2]
            grid:   { initial: [3, 3] }
            """;
        var seeded = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-seeds");
        var e2 = await Assert.ThrowsAsync<SpecException>(() => seeded.Start(new SweepRequest(deterministic, dir)));
        Assert.Contains("seeds", e2.Message);
    }

    [Fact]
    public async Task Synthetic_sweeps_take_several_seeds_and_each_seed_draws_its_own_noise()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sweep-").FullName;
        const string spec = """
            name: cluster-noise
            kind: synthetic
            params: { c0: 0.1, c1: 0.6, c2: -0.3, width: 0.05, noise: 0.05 }
            axes:
              tau:   { from: 0.1, to: 10.0, scale: log }
              delta: { from: -1.0, to: 1.0 }
            seeds: [1, 2]
            grid:   { initial: [3, 3] }
            """;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-noise");
        await g.Start(new SweepRequest(spec, dir));
        var s = await WaitFor(g, TimeSpan.FromMinutes(1));
        Assert.Equal("complete", s.State);
        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(18, rows.Count);                                              // 9 points × 2 seeds
        foreach (var point in rows.GroupBy(r => (r.LatticeI, r.LatticeJ)))
        {
            Assert.Equal([1L, 2L], point.Select(r => r.Seed).Order());
            Assert.NotEqual(point.First().Value, point.Last().Value);
            foreach (var r in point)
            {
                double clean = SyntheticRun.Value(r.Tau!.Value, r.Delta!.Value, 0.1, 0.6, -0.3, 0.05);
                double draw = SyntheticRun.StandardNormal(r.Seed, r.Tau.Value, r.Delta.Value);
                Assert.Equal(clean + 0.05 * draw, r.Value!.Value, 12);
            }
        }
    }

    [Fact]
    public async Task Adaptive_seeds_give_every_point_its_minimum_and_uncertain_points_more_as_one_run_per_seed()
    {
        string dir = Directory.CreateTempSubdirectory("rl-sweep-").FullName;
        const string spec = """
            name: cluster-adaptive
            kind: synthetic
            params: { c0: 0.1, c1: 0.6, c2: -0.3, width: 0.3, noise: 0.15 }
            axes:
              tau:   { from: 0.1, to: 10.0, scale: log }
              delta: { from: -1.0, to: 1.0 }
            seeds: { first: 10, min: 2, max: 5 }
            grid:   { initial: [4, 4] }
            refine: { metric: value, threshold: 0.5, max_depth: 2, budget: 30 }
            """;
        var g = fixture.Cluster.GrainFactory.GetGrain<ISweepCoordinatorGrain>("cluster-adaptive");
        await g.Start(new SweepRequest(spec, dir));
        var s = await WaitFor(g, TimeSpan.FromMinutes(2));
        Assert.Equal("complete", s.State);
        var rows = await ResultFiles.ReadAllAsync(dir);
        Assert.Equal(s.Done, rows.Count);                                           // one row per run
        Assert.Equal(rows.Count, rows.Select(r => r.RunId).Distinct().Count());
        var points = rows.GroupBy(r => (r.LatticeI, r.LatticeJ)).ToList();
        Assert.Equal(s.GridPoints, points.Count);
        Assert.InRange(points.Count, 17, 30);
        foreach (var point in points)
        {
            // The planner hands out a point's seeds in order from `first`: 10, 11, ... up to max.
            var seeds = point.Select(r => r.Seed).Order().ToList();
            Assert.Equal(Enumerable.Range(10, seeds.Count).Select(x => (long)x), seeds);
            Assert.InRange(seeds.Count, 2, 5);
            Assert.All(point, r => Assert.Equal($"p{r.LatticeI}_{r.LatticeJ}-s{r.Seed}", r.RunId));
        }
        Assert.Contains(points, p => p.Count() > 2);   // noise near the boundary made some point ask for more seeds

        // points.parquet: one row per grid point, its statistics recomputed here from the runs' rows.
        var (table, meta) = await PointsFile.ReadAsync(dir, ["tau", "delta"]);
        Assert.Equal(points.Count, table.Count);
        Assert.Equal("value", meta["richlazy.metric"]);
        foreach (var row in table)
        {
            var runs = points.Single(p => p.Key == (row.LatticeI, row.LatticeJ)).ToList();
            var values = runs.Select(r => r.Value!.Value).ToList();
            double mean = values.Average();
            double se = Math.Sqrt(values.Sum(x => (x - mean) * (x - mean)) / (values.Count - 1) / values.Count);
            Assert.Equal(values.Count, row.Seeds);
            Assert.Equal(values.Count, row.Runs);
            Assert.Equal(mean, row.Mean!.Value, 12);
            Assert.Equal(se, row.StdError!.Value, 12);
            Assert.Equal(runs[0].Tau!.Value, row.AxisValues[0], 12);
            Assert.Equal(runs[0].Delta!.Value, row.AxisValues[1], 12);
            Assert.Equal(runs[0].Depth, row.Depth);
        }
        Assert.Equal(table.Count, table.Select(r => r.Order).Distinct().Count());
        // boundary.json: polylines in axis units near the true curve log10 τ = 0.1 + 0.6δ − 0.3δ²
        // (30 noisy points: a coarse estimate, so a loose band).
        var doc = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "boundary.json")))!;
        Assert.Equal("value", (string?)doc["metric"]);
        var crossing = doc["polylines"]!.AsArray().SelectMany(l => l!.AsArray()).ToList();
        Assert.NotEmpty(crossing);
        foreach (var q in crossing)
        {
            double tau = (double)q!["tau"]!, delta = (double)q["delta"]!;
            Assert.InRange(Math.Log10(tau) - (0.1 + 0.6 * delta - 0.3 * delta * delta), -0.5, 0.5);
        }
    }
}
