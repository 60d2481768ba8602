namespace RichLazyOrleans.Training;

/// <summary>
/// Teacher-student's saved states: arrays w, a, w0, a0 and stop_norms in the format every training kind writes
/// (<see cref="StateStore"/>, state-STEP.bin). States saved before that format (ckpt-STEP.bin,
/// <see cref="CheckpointStore"/>) are still resumed.
/// </summary>
public static class TeacherStudentStates
{
    /// <summary>The newest valid older-format state with this fingerprint, as a <see cref="SavedState"/>.</summary>
    public static SavedState? Legacy(string directory, string fingerprint, int m, int d, Action<string>? log)
    {
        var legacy = new CheckpointStore(directory, log);
        if (!legacy.Files().Any() || legacy.LoadLatest(fingerprint) is not { } old) return null;
        if (old.M != m || old.D != d) throw new InvalidOperationException("saved state does not match the run's sizes");
        var arrays = new Dictionary<string, double[]>
        {
            ["w"] = old.W, ["a"] = old.A, ["w0"] = old.W0, ["a0"] = old.A0,
        };
        return new SavedState(old.Fingerprint, old.Step, arrays, old.RowsJson);
    }

    /// <summary>A named array of a state, with the length the run needs.</summary>
    public static double[] Array(SavedState s, string name, int length) =>
        s.Arrays.TryGetValue(name, out var a) && a.Length == length ? a
            : throw new InvalidOperationException(
                $"saved state at step {s.Step} has no array '{name}' of {length} values");
}
