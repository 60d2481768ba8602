using System.Security.Cryptography;

namespace RichLazyOrleans.Training;

/// <summary>
/// Saved training states on disk, shared by every store (<see cref="CheckpointStore"/>,
/// <see cref="StateStore"/>): each file is its body followed by the body's SHA-256, written under a
/// temporary name, flushed to disk and renamed, so a reader sees a whole file or none, and a torn
/// or corrupted one is detected by its hash. Files are named PREFIX-STEP.bin (12 digits).
/// </summary>
internal static class HashedFiles
{
    private const int HashLength = 32;

    public static string PathFor(string directory, string prefix, long step) =>
        Path.Combine(directory, $"{prefix}-{step:D12}.bin");

    public static void WriteAtomically(string path, byte[] body)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string tmp = path + TempMarker + Environment.ProcessId;
        try
        {
            using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                f.Write(body);
                f.Write(SHA256.HashData(body));
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch
        {
            // A full disk used to leave every failed attempt's partial file behind, filling it further.
            TryDelete(tmp);
            throw;
        }
    }

    private const string TempMarker = ".tmp-";

    /// <summary>A temporary file this old was left by a process that died mid-write (a write takes seconds).</summary>
    private static readonly TimeSpan StaleTemp = TimeSpan.FromMinutes(10);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// A record's bytes in the frame both stores use: magic, format version 1, fingerprint, step,
    /// then what <paramref name="body"/> writes (the SHA-256 is added by <see cref="WriteAtomically"/>).
    /// </summary>
    public static byte[] Frame(byte[] magic, string fingerprint, long step, Action<BinaryWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(magic);
            w.Write(1); // format version
            w.Write(fingerprint);
            w.Write(step);
            body(w);
        }
        return ms.ToArray();
    }

    /// <summary>
    /// Reads a <see cref="Frame"/>d record whose hash matches: checks magic and version, then hands
    /// (reader, fingerprint, step, body length) to <paramref name="body"/>, which returns the record or
    /// null with a reason. A torn, corrupt or foreign file gives null and why, never an exception.
    /// </summary>
    public static T? TryReadFrame<T>(string path, byte[] magic,
        Func<BinaryReader, string, long, int, (T? Value, string? Why)> body, out string? why) where T : class
    {
        try
        {
            if (ReadVerified(path, magic.Length, out why) is not { } bytes) return null;
            using var r = new BinaryReader(new MemoryStream(bytes));
            if (!r.ReadBytes(magic.Length).AsSpan().SequenceEqual(magic)) { why = "bad magic"; return null; }
            int version = r.ReadInt32();
            if (version != 1) { why = $"unknown format version {version}"; return null; }
            string fingerprint = r.ReadString();
            long step = r.ReadInt64();
            (var value, why) = body(r, fingerprint, step, bytes.Length);
            return value;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or UnauthorizedAccessException
            or FormatException)
        {
            why = e.Message;
            return null;
        }
    }

    /// <summary>The body of a file whose hash matches, or null with the reason.</summary>
    public static byte[]? ReadVerified(string path, int minimumBody, out string? why)
    {
        why = null;
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < minimumBody + HashLength) { why = "too short"; return null; }
        var body = bytes.AsSpan(0, bytes.Length - HashLength);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - HashLength)))
        {
            why = "checksum mismatch"; return null;
        }
        return body.ToArray();
    }

    /// <summary>Saved files PREFIX-STEP.bin in a directory, newest first.</summary>
    public static IReadOnlyList<(long Step, string Path)> List(string directory, string prefix)
    {
        if (!Directory.Exists(directory)) return [];
        return Directory.EnumerateFiles(directory, prefix + "-*.bin")
            .Select(p => (Ok: long.TryParse(Path.GetFileNameWithoutExtension(p)[(prefix.Length + 1)..], out long st),
                Step: st, Path: p))
            .Where(x => x.Ok)
            .OrderByDescending(x => x.Step)
            .Select(x => (x.Step, x.Path))
            .ToList();
    }

    public delegate T? Reader<T>(string path, out string? why) where T : class;

    /// <summary>
    /// The newest file that reads back whole and belongs to this run configuration, or null.
    /// Unusable or foreign files are reported (as "NOUN PATH is unusable (WHY)") and skipped.
    /// </summary>
    public static T? LoadNewest<T>(string directory, string prefix, Reader<T> read, Func<T, string> fingerprintOf,
        string fingerprint, Action<string>? log, string noun) where T : class
    {
        foreach (var (_, path) in List(directory, prefix))
        {
            var s = read(path, out string? why);
            if (s is null) { log?.Invoke($"{noun} {path} is unusable ({why}); trying an older one"); continue; }
            if (fingerprintOf(s) != fingerprint)
            {
                log?.Invoke($"{noun} {path} belongs to a different run configuration; ignored");
                continue;
            }
            return s;
        }
        return null;
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> files, and temporary files of writes that died
    /// (SIGKILL mid-write) more than 10 minutes ago (best effort).</summary>
    public static void Prune(string directory, string prefix, int keep)
    {
        foreach (var old in List(directory, prefix).Skip(keep)) TryDelete(old.Path);
        if (!System.IO.Directory.Exists(directory)) return;
        var before = DateTime.UtcNow - StaleTemp;
        foreach (var tmp in System.IO.Directory.EnumerateFiles(directory, $"{prefix}-*.bin{TempMarker}*"))
            if (File.GetLastWriteTimeUtc(tmp) < before) TryDelete(tmp);
    }
}
