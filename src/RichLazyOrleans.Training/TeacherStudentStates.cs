namespace RichLazyOrleans.Training;

/// <summary>A teacher-student state read back: parameters, the convergence monitor's samples, the rows so far.</summary>
public sealed record TeacherStudentState(
    long Step, double[] W, double[] A, double[] StopNorms, string RowsJson, string Path);

/// <summary>
/// Teacher-student's saved states in the format every training kind writes (<see cref="StateStore"/>, state-STEP.bin,
/// arrays w, a, w0, a0 and stop_norms). States saved before that format (ckpt-STEP.bin, <see cref="CheckpointStore"/>)
/// are still resumed: the newest valid state of either format wins.
/// </summary>
public sealed class TeacherStudentStates(string directory, int m, int d, Action<string>? log = null)
{
    private readonly StateStore _states = new(directory, log);
    private readonly CheckpointStore _legacy = new(directory, log);

    public void Save(string fingerprint, long step, double[] w, double[] a, double[] w0, double[] a0,
        double[] stopNorms, string rowsJson) =>
        _states.Save(new SavedState(fingerprint, step, new Dictionary<string, double[]>
        {
            ["w"] = w, ["a"] = a, ["w0"] = w0, ["a0"] = a0, ["stop_norms"] = stopNorms,
        }, rowsJson));

    /// <summary>The newest valid state with this fingerprint in either format, or null.</summary>
    public TeacherStudentState? LoadLatest(string fingerprint)
    {
        TeacherStudentState? current = _states.LoadLatest(fingerprint) is { } s
            ? new TeacherStudentState(s.Step, Array(s, "w", m * d), Array(s, "a", m),
                s.Arrays.TryGetValue("stop_norms", out var norms) ? norms : [], s.RowsJson, _states.PathFor(s.Step))
            : null;
        if (_legacy.Files().Any() && _legacy.LoadLatest(fingerprint) is { } old && old.Step > (current?.Step ?? -1))
        {
            if (old.M != m || old.D != d)
                throw new InvalidOperationException("saved state does not match the run's sizes");
            return new TeacherStudentState(old.Step, old.W, old.A, [], old.RowsJson, _legacy.PathFor(old.Step));
        }
        return current;
    }

    private static double[] Array(SavedState s, string name, int length) =>
        s.Arrays.TryGetValue(name, out var a) && a.Length == length ? a
            : throw new InvalidOperationException(
                $"saved state at step {s.Step} has no array '{name}' of {length} values");
}
