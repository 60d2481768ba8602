using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

/// <summary>Spec keys every training kind reads the same way: checkpoint steps and saved states.</summary>
internal static class TrainingKeys
{
    /// <summary>Paths every training kind takes: where its states are saved.</summary>
    public static IReadOnlyList<PathKey> PathKeys { get; } = [new("checkpoint_dir", PathUse.Write)];

    /// <summary>The `checkpoints` key (integer steps in [0, steps], sorted, distinct), or 0, 10, 100, …, steps.</summary>
    public static long[] Checkpoints(this Spec spec, long steps)
    {
        if (!spec.Has("checkpoints")) return TeacherStudentConfig.DecadeCheckpoints(steps);
        return spec.Vector("checkpoints").Select((v, i) => v == Math.Floor(v) && v >= 0 && v <= steps ? (long)v
            : throw new SpecException($"key 'checkpoints'[{i}] must be an integer step in [0, steps = {steps}], got {v}")).Distinct().Order().ToArray();
    }

    /// <summary>`checkpoint_every` (0: none) and `checkpoint_dir` (where states are saved; needed by a nonzero `checkpoint_every`).</summary>
    public static (long Every, string? Dir) SavedStates(this Spec spec)
    {
        long every = spec.Integer("checkpoint_every", 0, 0);
        string? dir = spec.OptionalString("checkpoint_dir");
        if (every > 0 && dir is null) throw new SpecException("key 'checkpoint_every' needs 'checkpoint_dir' (where to save the states)");
        return (every, dir);
    }

    /// <summary>
    /// `stop` (steps | converged), `stop_tolerance` (relative, default 1e-5), `stop_atol` (absolute, default 1e-9) and
    /// `stop_check_every` (default <see cref="ConvergenceRule.DefaultCheckEvery"/>) and `stop_metrics` (a list of the
    /// kind's <paramref name="metrics"/>; default: the kind's own choice): the early-stopping rule of a full-batch GD
    /// kind, or null for the default `stop: steps` (run them all).
    /// </summary>
    public static ConvergenceRule? StopRule(this Spec spec, long steps, IReadOnlyList<string> metrics)
    {
        string stop = spec.String("stop", "steps", "steps", "converged");
        if (stop == "steps")
        {
            foreach (var key in new[] { "stop_tolerance", "stop_atol", "stop_check_every", "stop_metrics" })
                if (spec.Has(key)) throw new SpecException($"key '{key}' needs 'stop: converged'");
            return null;
        }
        double rel = spec.PositiveNumber("stop_tolerance", 1e-5);
        double abs = spec.PositiveNumber("stop_atol", 1e-9);
        long every = spec.Integer("stop_check_every", ConvergenceRule.DefaultCheckEvery(steps), 1);
        string[]? watched = spec.Has("stop_metrics") ? spec.Strings("stop_metrics", metrics.ToArray()) : null;
        return new ConvergenceRule(rel, abs, every, watched);
    }

    /// <summary>Progress lines "KIND: step S/N (P%), LOSS-NAME L" into a log, or null without one.</summary>
    public static Action<long, double>? StepProgress(Action<string>? log, string kind, long steps, string lossName = "train loss") =>
        log is null ? null : (step, loss) => log($"{kind}: step {step}/{steps} ({100.0 * step / Math.Max(1, steps):F1}%), {lossName} {loss:G4}");
}
