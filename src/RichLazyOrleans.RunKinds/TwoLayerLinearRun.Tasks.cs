using System.Globalization;
using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `tasks`: a list of stages { `sigma_yx` (or `x` and `y`), `duration` &gt; 0 } trained one after the other from the
/// weights the last one ended with (<see cref="TwoLayerLinearTasks"/>); `times` are global, from 0 over the
/// concatenated stages, up to their total. Rows add `task` (the active stage; at a switch time the one that just
/// ended), `loss_task_K` (β's loss on task K: ½‖β − Σ_yx‖² whitened, (1/2n)‖Xβᵀ − Y‖² with data), `lambda_drift`
/// (‖Δ(t) − Δ(0)‖_F) and `forgetting` (from the end of stage 0 on: loss on task 0 now minus at the end of stage 0);
/// `loss` is the active task's loss and `kernel_distance` the whitened-input NTK's distance from t = 0. With
/// `epsilon`, `time_to_eps` is the time from the start of the last stage until its task's loss first falls to ≤ ε
/// (null if it never does within the stage). With `baseline: scratch` the last task is also trained alone from the
/// original init: rows in the last stage add `scratch_loss` (its loss at the same time since the stage's start) and,
/// with `epsilon`, `scratch_time_to_eps` and `transfer_speedup` = scratch_time_to_eps / time_to_eps (&gt; 1: the
/// stages before helped). Run-level values (the last three and `time_to_eps`) are on every row.
/// </summary>
public sealed partial class TwoLayerLinearRun
{
    /// <summary>Stages a spec may list: each has its `loss_task_K` column.</summary>
    public const int MaxTasks = 8;

    private static IEnumerable<KeyValuePair<string, (double, double)>> TaskMetrics =>
        new Dictionary<string, (double, double)>
        {
            ["forgetting"] = (double.NegativeInfinity, double.PositiveInfinity),
            ["time_to_eps"] = (0, double.PositiveInfinity),
            ["scratch_loss"] = (0, double.PositiveInfinity),
            ["scratch_time_to_eps"] = (0, double.PositiveInfinity),
            ["transfer_speedup"] = (0, double.PositiveInfinity),
        }.Concat(Enumerable.Range(0, MaxTasks)
            .Select(k => KeyValuePair.Create($"loss_task_{k}", (0.0, double.PositiveInfinity))));

    /// <summary>Numbers a task row reports that are not refinement targets.</summary>
    private static readonly string[] TaskColumns = ["task", "lambda_drift"];

    private sealed record TaskKeys(LinearTask[] Stages, double? Epsilon, bool Scratch);

    /// <summary>`tasks` and its protocol keys, or null without `tasks` (then `epsilon`, `baseline` are unknown).
    /// </summary>
    private static TaskKeys? Tasks(Spec spec)
    {
        var list = spec.Array("tasks");
        if (list is null) return null;
        foreach (var key in new[] { "sigma_yx", "x", "y" })
            if (spec.Has(key))
                throw new SpecException($"key '{key}': with 'tasks' every stage gives its own data; drop the "
                    + $"top-level '{key}'");
        if (list.Count is 0 or > MaxTasks)
            throw new SpecException($"key 'tasks' must list 1 to {MaxTasks} stages, got {list.Count}");
        var stages = new LinearTask[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonObject o)
                throw new SpecException($"key 'tasks'[{i}] must be an object {{ sigma_yx (or x and y), duration }}");
            try { stages[i] = Stage(new Spec(o), i == 0 ? null : stages[0].Data); }
            catch (SpecException e) { throw new SpecException($"key 'tasks'[{i}]: {e.Message}"); }
        }
        double? eps = spec.Has("epsilon") ? spec.PositiveNumber("epsilon") : null;
        bool scratch = spec.String("baseline", "none", "none", "scratch") == "scratch";
        return new TaskKeys(stages, eps, scratch);
    }

    private static LinearTask Stage(Spec stage, LinearData? first)
    {
        var data = Data(stage);
        double duration = stage.PositiveNumber("duration");
        stage.RejectUnknownKeys();
        if (first is not null && (data.C != first.C || data.D != first.D))
            throw new SpecException($"its data is c x d = {data.C} x {data.D}, stage 0's is {first.C} x {first.D}");
        return new LinearTask(data, duration);
    }

    private static void CheckTimes(double[] times, TaskKeys tasks)
    {
        double total = tasks.Stages.Sum(s => s.Duration);
        for (int i = 0; i < times.Length; i++)
            if (times[i] > total)
                throw new SpecException($"key 'times'[{i}] = {times[i].ToString("R", CultureInfo.InvariantCulture)} "
                    + "is past the end of the tasks (total duration "
                    + $"{total.ToString("R", CultureInfo.InvariantCulture)})");
    }

    private static IReadOnlyList<JsonObject> RunTasks(Parsed p, TaskKeys keys, bool exact, CancellationToken ct)
    {
        var integrator = new DormandPrince45
        {
            RelativeTolerance = p.Rtol, AbsoluteTolerance = p.Atol, NoiseFloorSteps = DeepLinearNumeric.NoiseFloorSteps,
        };
        var seq = new TwoLayerLinearTasks(keys.Stages, p.W1, p.W2, p.Eta1, p.Eta2, exact, integrator);
        ct.ThrowIfCancellationRequested();
        var states = seq.Solve(p.Times);
        int last = seq.Count - 1;
        double? before = seq.Count > 1 ? seq.Solve([seq.StartOf(1)])[0].Losses[0] : null;
        double? timeToEps = keys.Epsilon is { } eps ? seq.TimeToLoss(last, eps) : null;
        var scratch = keys.Scratch ? Scratch(p, keys, exact, integrator, seq.StartOf(last)) : null;
        ct.ThrowIfCancellationRequested();
        string solver = exact ? "exact" : "numeric";
        return states.Select((s, i) =>
        {
            var row = TaskRow(s, solver);
            if (before is { } b && s.T >= seq.StartOf(1)) row["forgetting"] = s.Losses[0] - b;
            if (timeToEps is { } tte) row["time_to_eps"] = Json.Number(tte);
            if (scratch is not null)
            {
                if (scratch.Losses[i] is { } sl) row["scratch_loss"] = sl;
                if (timeToEps is { } tte2 && scratch.TimeToEps is { } ste)
                {
                    row["scratch_time_to_eps"] = Json.Number(ste);
                    row["transfer_speedup"] = Json.Number(ste / tte2);
                }
            }
            return row;
        }).ToList();
    }

    private sealed record Baseline(double?[] Losses, double? TimeToEps);

    /// <summary>The last task trained alone from the original init, at the rows' times since the last stage's start
    /// (null for rows before it).</summary>
    private static Baseline Scratch(Parsed p, TaskKeys keys, bool exact, DormandPrince45 integrator, double start)
    {
        var task = keys.Stages[^1];
        var alone = new TwoLayerLinearTasks([task], p.W1, p.W2, p.Eta1, p.Eta2, exact, integrator);
        var rows = Enumerable.Range(0, p.Times.Length).Where(i => p.Times[i] >= start).ToArray();
        var states = alone.Solve(rows.Select(i => Math.Min(p.Times[i] - start, task.Duration)).ToArray());
        var losses = new double?[p.Times.Length];
        for (int j = 0; j < rows.Length; j++) losses[rows[j]] = states[j].Loss;
        double? tte = keys.Epsilon is { } eps ? alone.TimeToLoss(0, eps) : null;
        return new Baseline(losses, tte);
    }

    private static JsonObject TaskRow(TaskSequenceState s, string solver)
    {
        var row = new JsonObject
        {
            ["t"] = s.T,
            ["beta"] = Json.Rows(s.Beta),
            ["kernel_distance"] = s.KernelDistance,
            ["loss"] = s.Loss,
            ["solver"] = solver,
            ["task"] = s.Task,
            ["lambda_drift"] = s.LambdaDrift,
        };
        for (int k = 0; k < s.Losses.Length; k++) row[$"loss_task_{k}"] = s.Losses[k];
        return row;
    }
}
