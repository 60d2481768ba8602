namespace RichLazyOrleans.Training;

/// <summary>
/// A saved training state of any run kind: named float64 arrays (parameters, optimiser moments,
/// scalars as one-element arrays) plus the rows reported so far, as JSON. A state is resumed only
/// by a run whose fingerprint matches.
/// </summary>
public sealed record SavedState(string Fingerprint, long Step, IReadOnlyDictionary<string, double[]> Arrays,
    string RowsJson);

/// <summary>
/// Saved <see cref="SavedState"/>s of one run in a directory, as files state-STEP.bin, with the
/// discipline of <see cref="CheckpointStore"/>: each file is written to a temporary name, flushed
/// to disk and renamed, so a reader sees a whole file or none; each ends with a SHA-256 of its
/// contents, so a torn or corrupted file is detected and the previous good one is used; the newest
/// <see cref="Keep"/> files are kept. (CheckpointStore's format is teacher-student specific and
/// stays as it is.)
/// </summary>
public sealed class StateStore(string directory, Action<string>? log = null)
{
    private static readonly byte[] Magic = "RLOSTAT1"u8.ToArray();
    public string Directory { get; } = directory;
    public int Keep { get; init; } = 3;

    public string PathFor(long step) => HashedFiles.PathFor(Directory, "state", step);

    public void Save(SavedState s)
    {
        System.IO.Directory.CreateDirectory(Directory);
        HashedFiles.WriteAtomically(PathFor(s.Step), HashedFiles.Frame(Magic, s.Fingerprint, s.Step, w =>
        {
            w.Write(s.Arrays.Count);
            foreach (var (name, arr) in s.Arrays.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.Write(name);
                w.Write(arr.Length);
                foreach (double v in arr) w.Write(v);
            }
            w.Write(s.RowsJson);
        }));
        HashedFiles.Prune(Directory, "state", Keep);
    }

    /// <summary>
    /// The newest valid state with this fingerprint, or null. Corrupt files are reported and skipped.
    /// </summary>
    public SavedState? LoadLatest(string fingerprint) =>
        HashedFiles.LoadNewest<SavedState>(Directory, "state", TryRead, s => s.Fingerprint, fingerprint, log,
            "saved state");

    /// <summary>Saved files, newest first.</summary>
    public IEnumerable<(long Step, string Path)> Files() => HashedFiles.List(Directory, "state");

    public static SavedState? TryRead(string path, out string? why) =>
        HashedFiles.TryReadFrame<SavedState>(path, Magic, (r, fp, step, length) =>
        {
            int count = r.ReadInt32();
            if (count < 0) return (null, "negative array count");
            var arrays = new Dictionary<string, double[]>(StringComparer.Ordinal);
            for (int k = 0; k < count; k++)
            {
                string name = r.ReadString();
                int len = r.ReadInt32();
                if (len < 0 || (long)len * 8 > length) return (null, $"bad length of array '{name}'");
                var a = new double[len];
                for (int i = 0; i < len; i++) a[i] = r.ReadDouble();
                arrays[name] = a;
            }
            return (new SavedState(fp, step, arrays, r.ReadString()), null);
        }, out why);

}
