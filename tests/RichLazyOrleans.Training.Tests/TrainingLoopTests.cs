using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

/// <summary>The shared loop with a toy engine: x ← x − lr·2x on x² (no tensors), every number known by hand.</summary>
public class TrainingLoopTests
{
    public sealed record ToyRow(long Step, double X, string Status, long ResumedFromStep) : ITrainingRow<ToyRow>
    {
        public ToyRow WithResumedFrom(long step) => this with { ResumedFromStep = step };
    }

    private sealed class Toy(double lr, Func<long, bool>? cancelAt = null, CancellationTokenSource? cts = null)
        : ITrainingEngine<ToyRow>
    {
        public double X;
        public int Steps;

        public void Start(SavedState? saved, bool finished) => X = saved?.Arrays["x"][0] ?? 1.0;

        public IReadOnlyDictionary<string, double[]> Export() => new Dictionary<string, double[]> { ["x"] = [X] };

        public StepOutcome<ToyRow> Step(long step, bool report, bool last, long resumedFrom)
        {
            double loss = X * X;
            if (cancelAt?.Invoke(step) == true) cts!.Cancel();
            if (!double.IsFinite(loss) || loss > 1e6)
                return new(loss, new ToyRow(step, X, "diverged", resumedFrom), StepEnd.Diverged);
            var row = report ? new ToyRow(step, X, "ok", resumedFrom) : null;
            if (last) return new(loss, row, StepEnd.Finished);
            X -= lr * 2 * X;
            Steps++;
            return new(loss, row);
        }
    }

    private static LoopSchedule Schedule(string? dir, long every = 0) =>
        new("toy", 20, [0, 5, 20], every, dir, "toy/1");

    [Fact]
    public void Rows_at_the_checkpoints_with_the_hand_computed_values()
    {
        var rows = new TrainingLoop<ToyRow>(Schedule(null)).Run(new Toy(0.25));   // x halves every step
        Assert.Equal([0L, 5L, 20L], rows.Select(r => r.Step));
        Assert.Equal([1.0, Math.Pow(0.5, 5), Math.Pow(0.5, 20)], rows.Select(r => r.X));
    }

    [Fact]
    public void A_diverging_engine_ends_with_one_diverged_row_and_the_log_says_so()
    {
        var log = new List<string>();
        var rows = new TrainingLoop<ToyRow>(Schedule(null)) { Log = log.Add }.Run(new Toy(-2));   // x ← 5x
        Assert.Equal("diverged", rows[^1].Status);
        Assert.Equal(5, rows[^1].Step);   // x = 5^s: x² > 1e6 first at s = 5 (5^5 = 3125), a checkpoint
        Assert.Contains(log, l => l.StartsWith("diverged at step 5: training loss", StringComparison.Ordinal));
    }

    [Fact]
    public void Cancelled_runs_save_the_exact_step_and_resume_to_the_same_rows_once_finished()
    {
        string dir = Directory.CreateTempSubdirectory("richlazy-loop-").FullName;
        var clean = new TrainingLoop<ToyRow>(Schedule(null)).Run(new Toy(0.25));

        using var cts = new CancellationTokenSource();
        var log = new List<string>();
        var loop = new TrainingLoop<ToyRow>(Schedule(dir, every: 4)) { Log = log.Add };
        Assert.ThrowsAny<OperationCanceledException>(() => loop.Run(new Toy(0.25, s => s == 13, cts), cts.Token));
        Assert.Contains("interrupted at step 14; state saved", log);
        var store = new StateStore(dir);
        Assert.Equal([14L, 12L, 8L], store.Files().Select(f => f.Step));

        var resumedEngine = new Toy(0.25);
        var resumed = loop.Run(resumedEngine);
        Assert.Equal(6, resumedEngine.Steps);                       // 14 → 20 only
        Assert.All(resumed, r => Assert.Equal(14, r.ResumedFromStep));
        Assert.Equal(clean, resumed.Select(r => r with { ResumedFromStep = 0 }));
        Assert.Equal([1.0], store.LoadLatest("toy/1")!.Arrays["finished"]);

        var again = new Toy(0.25);                                  // a finished state: the rows, no training
        var rerun = loop.Run(again);
        Assert.Equal(0, again.Steps);
        Assert.All(rerun, r => Assert.Equal(20, r.ResumedFromStep));
        Assert.Equal(clean, rerun.Select(r => r with { ResumedFromStep = 0 }));
        Assert.Null(new StateStore(dir).LoadLatest("toy/2"));        // another fingerprint is never resumed
    }

    [Fact]
    public void A_legacy_state_newer_than_the_newest_state_file_is_used()
    {
        string dir = Directory.CreateTempSubdirectory("richlazy-loop-").FullName;
        var legacy = new SavedState("toy/1", 10, new Dictionary<string, double[]> { ["x"] = [Math.Pow(0.5, 10)] },
            "[{\"Step\":0,\"X\":1,\"Status\":\"ok\",\"ResumedFromStep\":0},"
            + "{\"Step\":5,\"X\":0.03125,\"Status\":\"ok\",\"ResumedFromStep\":0}]");
        var log = new List<string>();
        var engine = new Toy(0.25);
        var rows = new TrainingLoop<ToyRow>(Schedule(dir)) { Log = log.Add, LegacyState = () => legacy }.Run(engine);
        Assert.Equal(10, engine.Steps);
        Assert.Equal([0L, 5L, 20L], rows.Select(r => r.Step));
        Assert.Equal(Math.Pow(0.5, 20), rows[^1].X);
        Assert.Contains(log, l => l.StartsWith("resumed from step 10 (a state in the older format)",
            StringComparison.Ordinal));
    }
}
