using System.Diagnostics;
using System.Text.Json;
using RichLazyOrleans.Results;

namespace RichLazyOrleans.Results.Tests;

public class ResultsLockTests
{
    private static string Dir() => Directory.CreateTempSubdirectory("rl-lock-").FullName;

    private static void Plant(string dir, LockOwner owner) =>
        File.WriteAllText(ResultsLock.PathFor(dir), JsonSerializer.Serialize(owner));

    private static int DeadPid()
    {
        using var p = Process.Start("true")!;
        p.WaitForExit();
        return p.Id;
    }

    [Fact]
    public void A_live_holder_elsewhere_is_refused_with_one_line_and_the_same_sweep_on_the_same_cluster_takes_over()
    {
        string dir = Dir();
        ResultsLock.Acquire(dir, "s", "cluster-a");
        ResultsLock.Acquire(dir, "s", "cluster-a");   // a coordinator restored on another silo of the same cluster
        var e = Assert.Throws<ResultsLockedException>(() => ResultsLock.Acquire(dir, "s", "cluster-b"));
        Assert.Contains("in use by sweep 's'", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Throws<ResultsLockedException>(() => ResultsLock.Acquire(dir, "other", "cluster-a"));
        ResultsLock.Release(dir, "other", "cluster-a");   // not its lock: stays
        Assert.True(File.Exists(ResultsLock.PathFor(dir)));
        ResultsLock.Release(dir, "s", "cluster-a");
        ResultsLock.Acquire(dir, "other", "cluster-b");
    }

    [Fact]
    public void A_lock_of_a_process_that_is_gone_or_of_a_silent_host_is_taken_over()
    {
        string dir = Dir();
        // Same host, process gone (a SIGKILLed `sweep run` run again).
        Plant(dir, new LockOwner("s", "local:x", Environment.MachineName, DeadPid(), DateTime.UtcNow));
        ResultsLock.Acquire(dir, "s", "local:y");
        // Another host, not heard from for longer than the lease.
        Plant(dir, new LockOwner("s", "redis:c", "elsewhere", 1,
            DateTime.UtcNow - ResultsLock.Lease - TimeSpan.FromSeconds(1)));
        ResultsLock.Acquire(dir, "t", "local:y");
        Assert.Equal("t", ResultsLock.Read(ResultsLock.PathFor(dir))!.Sweep);
        // Another host, heard from recently: refused. A live process on this host (pid 1): refused.
        Plant(dir, new LockOwner("s", "redis:c", "elsewhere", 1, DateTime.UtcNow));
        Assert.Throws<ResultsLockedException>(() => ResultsLock.Acquire(dir, "t", "local:y"));
        Plant(dir, new LockOwner("s", "local:z", Environment.MachineName, 1, DateTime.UtcNow));
        Assert.Throws<ResultsLockedException>(() => ResultsLock.Acquire(dir, "t", "local:y"));
        Assert.False(ResultsLock.Heartbeat(dir, "t", "local:y"));   // not ours: not renewed
    }

    [Fact]
    public void Of_many_takers_at_once_exactly_one_gets_a_free_directory()
    {
        string dir = Dir();
        int won = 0;
        Parallel.For(0, 16, i =>
        {
            try { ResultsLock.Acquire(dir, "s", $"cluster-{i}"); Interlocked.Increment(ref won); }
            catch (ResultsLockedException) { }
        });
        Assert.Equal(1, won);
    }
}
