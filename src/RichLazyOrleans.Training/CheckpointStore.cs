namespace RichLazyOrleans.Training;

/// <summary>A saved training state: everything needed to continue bit-identically.</summary>
public sealed record TrainingState(string Fingerprint, long Step, int M, int D, double[] W, double[] A, double[] W0,
    double[] A0, string RowsJson);

/// <summary>
/// Saved states of one run in a directory, as files ckpt-STEP.bin. Each file is written to a
/// temporary name, flushed to disk and renamed, so a reader sees a whole file or none; each ends
/// with a SHA-256 of its contents, so a torn or corrupted file is detected and the previous good
/// one is used. The newest <see cref="Keep"/> files are kept.
/// </summary>
public sealed class CheckpointStore(string directory, Action<string>? log = null)
{
    private static readonly byte[] Magic = "RLOCKPT1"u8.ToArray();
    public string Directory { get; } = directory;
    public int Keep { get; init; } = 3;

    public string PathFor(long step) => HashedFiles.PathFor(Directory, "ckpt", step);

    public void Save(TrainingState s)
    {
        System.IO.Directory.CreateDirectory(Directory);
        HashedFiles.WriteAtomically(PathFor(s.Step), HashedFiles.Frame(Magic, s.Fingerprint, s.Step, w =>
        {
            w.Write(s.M);
            w.Write(s.D);
            foreach (var arr in new[] { s.W, s.A, s.W0, s.A0 })
            {
                w.Write(arr.Length);
                foreach (double v in arr) w.Write(v);
            }
            w.Write(s.RowsJson);
        }));
        HashedFiles.Prune(Directory, "ckpt", Keep);
    }

    /// <summary>
    /// The newest valid state with this fingerprint, or null. Corrupt files are reported and skipped.
    /// </summary>
    public TrainingState? LoadLatest(string fingerprint) =>
        HashedFiles.LoadNewest<TrainingState>(Directory, "ckpt", TryRead, s => s.Fingerprint, fingerprint, log,
            "checkpoint");

    /// <summary>Saved files, newest first.</summary>
    public IEnumerable<(long Step, string Path)> Files() => HashedFiles.List(Directory, "ckpt");

    public static TrainingState? TryRead(string path, out string? why) =>
        HashedFiles.TryReadFrame<TrainingState>(path, Magic, (r, fp, step, _) =>
        {
            int m = r.ReadInt32(), d = r.ReadInt32();
            double[] Arr()
            {
                int len = r.ReadInt32(); var a = new double[len]; for (int i = 0; i < len; i++) a[i] = r.ReadDouble();
                return a;
            }
            var w = Arr(); var a = Arr(); var w0 = Arr(); var a0 = Arr();
            string rows = r.ReadString();
            if (w.Length != m * d || a.Length != m || w0.Length != m * d || a0.Length != m)
                return (null, "inconsistent sizes");
            return (new TrainingState(fp, step, m, d, w, a, w0, a0, rows), null);
        }, out why);

}
