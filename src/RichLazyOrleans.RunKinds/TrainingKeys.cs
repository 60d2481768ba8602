using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

/// <summary>The spec keys every training kind shares, read once (<see cref="TrainingKeys.Common"/>).</summary>
/// <param name="Device">`cpu`, `auto` (pinned to the run's slot), or for kinds that run on CUDA `cuda[:N]`.</param>
/// <param name="CheckpointEvery">Steps between saved states (0: none; a default when only `checkpoint_dir` is given).
/// </param>
internal sealed record TrainingCommon(
    int Threads, string Device, bool Float32, double DivergenceLoss, long CheckpointEvery, string? CheckpointDir);

/// <summary>Spec keys every training kind reads the same way: common keys, checkpoint steps, saved states.</summary>
internal static class TrainingKeys
{
    /// <summary>
    /// `threads` (1), `device` (cpu), `dtype` (<paramref name="dtype"/> by default), `divergence_loss` (1e10),
    /// `checkpoint_dir` and `checkpoint_every`: with a directory and no interval a state is saved every steps/10 steps,
    /// at most every <paramref name="maxSaveEvery"/> (0: no default interval, the kind saves at its own points).
    /// </summary>
    public static TrainingCommon Common(this Spec spec, string kind, bool cuda, long steps, string dtype,
        long maxSaveEvery)
    {
        string type = spec.String("dtype", dtype, "float64", "float32");
        var (every, dir) = spec.SavedStates();
        if (every == 0 && dir is not null && maxSaveEvery > 0) every = Math.Max(1, Math.Min(maxSaveEvery, steps / 10));
        return new TrainingCommon((int)spec.Integer("threads", 1, 1, 1024), Device(spec, kind, cuda), type == "float32",
            spec.PositiveNumber("divergence_loss", 1e10), every, dir);
    }

    private static string Device(Spec spec, string kind, bool runsOnCuda)
    {
        string device = spec.String("device", "cpu");
        bool cuda = device == "cuda"
            || device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device[5..], out int n) && n >= 0;
        if (device is "cpu" or "auto" || cuda && runsOnCuda) return device;
        throw new SpecException(cuda
            ? $"key 'device': kind '{kind}' runs on the CPU only (cpu or auto), got '{device}'"
            : $"key 'device' must be 'cpu', 'auto', 'cuda' or 'cuda:N', got '{device}'");
    }

    /// <summary>The keys <see cref="Common"/> reads, as declared for docs and `run --help` (same arguments).</summary>
    public static IReadOnlyList<SpecKey> CommonKeys(bool cuda, string dtype, long maxSaveEvery) =>
    [
        new("dtype", dtype, "float64 | float32: the training precision (metrics are computed in float64)"),
        new("device", "cpu", cuda
            ? "cpu | auto | cuda | cuda:N; auto takes the run's slot (a GPU slot where the silo has one)"
            : "cpu | auto (this kind runs on the CPU only; cuda is refused)"),
        new("threads", "1", "TorchSharp threads for this run, integer in [1, 1024]; a sweep gives each run a slot "
            + "per thread"),
        new("divergence_loss", "1e10", "> 0: a training loss above it (or not finite) ends the run with a row "
            + "status diverged"),
        new("checkpoint_dir", SpecKey.Optional, "directory for resumable saved states (state-STEP.bin); a rerun "
            + "resumes from the newest valid one. In a sweep: DIR/checkpoints/RUN_ID by default"),
        new("checkpoint_every", maxSaveEvery > 0 ? $"0, or steps/10 (at most {maxSaveEvery}) with checkpoint_dir"
            : "0 (states after each training size)", "steps between saved states, integer ≥ 0; needs checkpoint_dir"),
    ];

    /// <summary>The `checkpoints` key (<see cref="Checkpoints"/>).</summary>
    public static SpecKey CheckpointsKey { get; } = new("checkpoints", "0, 10, 100, …, steps",
        "steps at which a row is reported: integers in [0, steps], sorted and de-duplicated");

    /// <summary>The keys <see cref="StopRule"/> reads.</summary>
    public static IReadOnlyList<SpecKey> StopKeys { get; } =
    [
        new("stop", "steps", "steps | converged: converged ends the run once no watched metric can still change by "
            + "more than max(stop_tolerance·|value|, stop_atol) before the last step (final row status converged)"),
        new("stop_tolerance", "1e-5", "relative tolerance of stop: converged, > 0"),
        new("stop_atol", "1e-9", "absolute tolerance of stop: converged, > 0"),
        new("stop_check_every", "max(100, steps/100)", "steps between convergence checks, integer ≥ 1"),
        new("stop_metrics", "train_loss, test_loss, parameter_distance, delta_drift",
            "list of the metrics stop: converged watches (kernel and Hamming distance jump step to step in rich runs)"),
    ];

    /// <summary>Paths every training kind takes: where its states are saved.</summary>
    public static IReadOnlyList<PathKey> PathKeys { get; } = [new("checkpoint_dir", PathUse.Write)];

    /// <summary>The `checkpoints` key (integer steps in [0, steps], sorted, distinct), or 0, 10, 100, …,
    /// steps.</summary>
    public static long[] Checkpoints(this Spec spec, long steps)
    {
        if (!spec.Has("checkpoints")) return TeacherStudentConfig.DecadeCheckpoints(steps);
        return spec.Vector("checkpoints").Select((v, i) => v == Math.Floor(v) && v >= 0 && v <= steps ? (long)v
            : throw new SpecException(
                $"key 'checkpoints'[{i}] must be an integer step in [0, steps = {steps}], got {v}"))
            .Distinct().Order().ToArray();
    }

    /// <summary>`checkpoint_every` (0: none) and `checkpoint_dir` (where states are saved; needed by a nonzero
    /// `checkpoint_every`).</summary>
    public static (long Every, string? Dir) SavedStates(this Spec spec)
    {
        long every = spec.Integer("checkpoint_every", 0, 0);
        string? dir = spec.OptionalString("checkpoint_dir");
        if (every > 0 && dir is null)
            throw new SpecException("key 'checkpoint_every' needs 'checkpoint_dir' (where to save the states)");
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
    public static Action<long, double>? StepProgress(Action<string>? log, string kind, long steps,
        string lossName = "train loss") =>
        log is null ? null : (step, loss) => log(
            $"{kind}: step {step}/{steps} ({100.0 * step / Math.Max(1, steps):F1}%), {lossName} {loss:G4}");
}
