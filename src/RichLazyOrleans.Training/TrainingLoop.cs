using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RichLazyOrleans.Training;

/// <summary>JSON of the rows kept in saved states, one setting for every kind.</summary>
public static class TrainingJson
{
    /// <summary>NaN and infinite losses (a diverged run's) are written as "NaN"/"Infinity", not refused.</summary>
    public static readonly JsonSerializerOptions Rows =
        new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
}

/// <summary>A metric row of a training kind: the loop needs its step and sets where the run resumed.</summary>
public interface ITrainingRow<TRow>
{
    long Step { get; }
    TRow WithResumedFrom(long step);
}

/// <summary>How one step of an engine ended.</summary>
public enum StepEnd
{
    /// <summary>Parameters updated; the loop goes on to the next step.</summary>
    None,
    /// <summary>The last step was reached (its row, if any, reported; no update).</summary>
    Finished,
    /// <summary>The training loss was not finite or above divergence_loss; the row reports it.</summary>
    Diverged,
    /// <summary>An early-stopping rule found nothing left to change; the row says `converged`.</summary>
    Converged,
}

/// <summary>What one step produced: the training loss (for progress), a row if one is due, how it ended.</summary>
public readonly record struct StepOutcome<TRow>(double Loss, TRow? Row, StepEnd End = StepEnd.None);

/// <summary>
/// What a training kind supplies to <see cref="TrainingLoop{TRow}"/>: its parameters' state and one step. Everything
/// else (saved states, resume, cancellation, divergence messages, checkpoints, progress, the meter) is the loop's.
/// </summary>
public interface ITrainingEngine<TRow> where TRow : ITrainingRow<TRow>
{
    /// <summary>
    /// Before the first step: from the seeded init (<paramref name="saved"/> null) or from a saved state;
    /// <paramref name="finished"/> says the state is a finished run's (no step will follow).
    /// </summary>
    void Start(SavedState? saved, bool finished);

    /// <summary>The engine's part of a saved state (parameters, optimiser moments, its own scalars).</summary>
    IReadOnlyDictionary<string, double[]> Export();

    /// <summary>
    /// Step <paramref name="step"/>: at <paramref name="last"/> (step = steps) only the row is due; otherwise the loss
    /// (diverged: a row saying so), the row when <paramref name="report"/>, then the update.
    /// </summary>
    StepOutcome<TRow> Step(long step, bool report, bool last, long resumedFrom);
}

/// <summary>The schedule every training kind shares: steps, metric checkpoints, saved states.</summary>
/// <param name="Kind">The run kind: the meter's tag and the progress lines' prefix.</param>
/// <param name="Fingerprint">What fixes the trajectory; a saved state is only resumed under the same one.</param>
public sealed record LoopSchedule(
    string Kind, long Steps, long[] Checkpoints, long CheckpointEvery, string? CheckpointDir, string Fingerprint);

/// <summary>
/// The one training loop: runs an <see cref="ITrainingEngine{TRow}"/> from its newest saved state (or step 0) to the
/// last step, a divergence or a convergence, returning every row including those reported before a resume. States
/// (<see cref="StateStore"/>) are saved every CheckpointEvery steps, at the end (marked `finished`, so a rerun
/// reports the same rows without training), and on cancellation at the exact step reached, so the run goes on
/// elsewhere bit for bit.
/// </summary>
public sealed class TrainingLoop<TRow>(LoopSchedule schedule) where TRow : ITrainingRow<TRow>
{
    private static JsonSerializerOptions RowJson => TrainingJson.Rows;

    public LoopSchedule Schedule { get; } = schedule;
    public Action<string>? Log { get; init; }
    public Action<TRow>? RowReady { get; init; }
    /// <summary>Called about every <see cref="ProgressSeconds"/> with (step, training loss).</summary>
    public Action<long, double>? Progress { get; init; }
    public double ProgressSeconds { get; init; } = 5;
    /// <summary>A state in the kind's older format, used when newer than any <see cref="StateStore"/> one.</summary>
    public Func<SavedState?>? LegacyState { get; init; }

    public IReadOnlyList<TRow> Run(ITrainingEngine<TRow> engine, CancellationToken cancellationToken = default)
    {
        var store = Schedule.CheckpointDir is { } dir ? new StateStore(dir, Log) : null;
        var current = store?.LoadLatest(Schedule.Fingerprint);
        var legacy = store is null ? null : LegacyState?.Invoke();
        bool fromLegacy = legacy is not null && legacy.Step > (current?.Step ?? -1);
        var saved = fromLegacy ? legacy : current;
        var rows = new List<TRow>();
        long step = 0, resumedFrom = 0;
        bool finished = saved?.Arrays.GetValueOrDefault("finished") is [1];
        engine.Start(saved, finished);
        if (saved is not null)
        {
            rows.AddRange(JsonSerializer.Deserialize<List<TRow>>(saved.RowsJson, RowJson) ?? []);
            step = resumedFrom = saved.Step;
            string where = fromLegacy ? "a state in the older format" : store!.PathFor(step);
            Log?.Invoke($"resumed from step {step} ({where})");
        }

        var checkpoints = new Queue<long>(Schedule.Checkpoints.Where(s => s >= step && !rows.Any(r => r.Step == s)));
        var clock = Stopwatch.StartNew();
        double lastReport = 0;
        while (!finished)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                if (store is not null && step > resumedFrom) Save(store, engine, step, rows, false);
                Log?.Invoke($"interrupted at step {step}{(store is not null ? "; state saved" : "")}");
                cancellationToken.ThrowIfCancellationRequested();
            }
            bool report = checkpoints.Count > 0 && checkpoints.Peek() == step;
            var outcome = engine.Step(step, report, step >= Schedule.Steps, resumedFrom);
            if (outcome.Row is { } row)
            {
                if (report) checkpoints.Dequeue();
                rows.Add(row);
                RowReady?.Invoke(row);
            }
            if (outcome.End == StepEnd.Diverged)
                Log?.Invoke($"diverged at step {step}: training loss {outcome.Loss:G4}");
            if (outcome.End != StepEnd.None) break;

            step++;
            if ((step & 1023) == 0) TrainingMeter.Add(Schedule.Kind, 1024);
            if (store is not null && Schedule.CheckpointEvery > 0 && step % Schedule.CheckpointEvery == 0
                && step < Schedule.Steps)
                Save(store, engine, step, rows, false);
            if (Progress is not null && clock.Elapsed.TotalSeconds - lastReport > ProgressSeconds)
            {
                lastReport = clock.Elapsed.TotalSeconds;
                Progress(step, outcome.Loss);
            }
        }
        if (store is not null && !finished) Save(store, engine, step, rows, true);
        // resumed_from_step describes the run as a whole (0 when it never restarted), rows from before a restart too.
        return rows.Select(r => r.WithResumedFrom(resumedFrom)).ToList();
    }

    private void Save(StateStore store, ITrainingEngine<TRow> engine, long step, List<TRow> rows, bool finished)
    {
        var arrays = new Dictionary<string, double[]>(engine.Export(), StringComparer.Ordinal)
        {
            ["finished"] = [finished ? 1 : 0],
        };
        store.Save(new SavedState(Schedule.Fingerprint, step, arrays, JsonSerializer.Serialize(rows, RowJson)));
    }
}
