using System.Diagnostics;
using System.Text.Json;

namespace RichLazyOrleans.Results;

/// <summary>A results directory another sweep is writing; the message is one line naming the holder.</summary>
public sealed class ResultsLockedException(string message) : Exception(message);

/// <summary>Who holds a results directory: the sweep, the cluster it runs on, and where, with a heartbeat.</summary>
public sealed record LockOwner(string Sweep, string Cluster, string Host, int Pid, DateTime HeartbeatUtc);

/// <summary>
/// DIR/.richlazy.lock: a results directory belongs to one sweep on one cluster at a time. Two `sweep run` processes
/// into the same --out (two embedded clusters) used to both write every row. The same sweep on the same cluster takes
/// the lock over at once (a coordinator restored on another silo: Orleans keeps one activation per sweep, and its
/// state's version fences a stale one). Anyone else gets it only when it is stale: its process is gone (same
/// host), or its heartbeat is older than <see cref="Lease"/> (another host: a silo killed there). Created with
/// create-new semantics, so of two processes starting at once exactly one wins; taking over a stale lock has a
/// small race (two takers of the same stale lock), which no test here can hit and the lease makes rare.
/// </summary>
public static class ResultsLock
{
    public const string FileName = ".richlazy.lock";
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    public static string PathFor(string dir) => System.IO.Path.Combine(dir, FileName);

    /// <summary>Takes the lock for (sweep, cluster) or throws <see cref="ResultsLockedException"/>.</summary>
    public static void Acquire(string dir, string sweep, string cluster)
    {
        Directory.CreateDirectory(dir);
        string path = PathFor(dir);
        for (int attempt = 0; attempt < 40; attempt++)
        {
            if (TryCreate(path, Me(sweep, cluster))) return;
            var owner = Read(path);
            if (owner is null)
            {
                // Being written by whoever just created it, or left unreadable long ago (then it is taken).
                if (File.Exists(path) && DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < TimeSpan.FromSeconds(5))
                {
                    Thread.Sleep(25);
                    continue;
                }
            }
            else if (!(owner.Sweep == sweep && owner.Cluster == cluster) && !IsStale(owner))
            {
                if (File.Exists(path)) throw Locked(dir, owner);
                continue;
            }
            Write(path, Me(sweep, cluster));   // ours already, unreadable for a while, or stale: take it
            return;
        }
        throw new ResultsLockedException($"{dir}: could not take its lock {FileName} (it keeps changing)");
    }

    /// <summary>Renews the heartbeat if (sweep, cluster) still holds the lock; false when someone else took it.
    /// </summary>
    public static bool Heartbeat(string dir, string sweep, string cluster)
    {
        var owner = Read(PathFor(dir));
        if (owner is not null && (owner.Sweep != sweep || owner.Cluster != cluster)) return false;
        Write(PathFor(dir), Me(sweep, cluster));
        return true;
    }

    /// <summary>Gives the directory back (a finished sweep); only its own lock.</summary>
    public static void Release(string dir, string sweep, string cluster)
    {
        string path = PathFor(dir);
        if (Read(path) is { } owner && owner.Sweep == sweep && owner.Cluster == cluster) File.Delete(path);
    }

    public static LockOwner? Read(string path)
    {
        try { return JsonSerializer.Deserialize<LockOwner>(File.ReadAllText(path)); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Its process is gone (same host), or nobody renewed it for a lease.</summary>
    public static bool IsStale(LockOwner owner, DateTime? now = null)
    {
        if ((now ?? DateTime.UtcNow) - owner.HeartbeatUtc > Lease) return true;
        if (owner.Host != Environment.MachineName) return false;
        try
        {
            using var p = Process.GetProcessById(owner.Pid);
            return p.HasExited;
        }
        catch (ArgumentException) { return true; }   // no such process
    }

    private static LockOwner Me(string sweep, string cluster) =>
        new(sweep, cluster, Environment.MachineName, Environment.ProcessId, DateTime.UtcNow);

    private static ResultsLockedException Locked(string dir, LockOwner o) => new(
        $"{dir} is in use by sweep '{o.Sweep}' ({o.Host}, pid {o.Pid}, heard from "
        + $"{(DateTime.UtcNow - o.HeartbeatUtc).TotalSeconds:F0} s ago); use another --out, or wait for it to end "
        + $"(a lock not renewed for {Lease.TotalSeconds:F0} s is taken over)");

    private static bool TryCreate(string path, LockOwner me)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            fs.Write(JsonSerializer.SerializeToUtf8Bytes(me));
            fs.Flush(flushToDisk: true);
            return true;
        }
        catch (IOException) when (File.Exists(path)) { return false; }
    }

    /// <summary>Replaces the lock's content atomically (temporary name, rename).</summary>
    private static void Write(string path, LockOwner me)
    {
        string tmp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(tmp, JsonSerializer.SerializeToUtf8Bytes(me));
            File.Move(tmp, path, overwrite: true);
        }
        finally { if (File.Exists(tmp)) File.Delete(tmp); }
    }
}
