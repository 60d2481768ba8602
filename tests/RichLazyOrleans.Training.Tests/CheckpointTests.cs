using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

public class CheckpointTests
{
    private static string TempDir() => Directory.CreateTempSubdirectory("richlazy-ckpt-").FullName;

    private static TrainingState State(long step, string fp = "fp") =>
        new(fp, step, 2, 3, [1, 2, 3, 4, 5, step], [7, 8], [0, 0, 0, 0, 0, 0], [1, 1], "[]");

    [Fact]
    public void A_failed_write_leaves_no_temporary_file_and_stale_ones_are_cleaned_up()
    {
        // A write that fails (here the target is a directory; on a full disk the write itself) used to leave
        // ckpt-*.bin.tmp-PID behind on every attempt.
        var store = new CheckpointStore(TempDir());
        Directory.CreateDirectory(Path.Combine(store.PathFor(10), "blocker"));
        Assert.ThrowsAny<IOException>(() => store.Save(State(10)));
        Assert.Empty(Directory.EnumerateFiles(store.Directory, "*.tmp-*"));

        // A temporary file of a process killed mid-write goes with the next save once it is 10 minutes old;
        // a fresh one (a write in progress elsewhere) stays.
        string stale = store.PathFor(5) + ".tmp-999999", fresh = store.PathFor(6) + ".tmp-999998";
        File.WriteAllText(stale, "partial");
        File.WriteAllText(fresh, "partial");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddMinutes(-11));
        store.Save(State(20));
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
        Assert.Equal(20, store.LoadLatest("fp")!.Step);
    }

    [Fact]
    public void Store_keeps_the_newest_files_and_falls_back_past_corrupt_ones()
    {
        var store = new CheckpointStore(TempDir());
        foreach (long s in new long[] { 10, 20, 30, 40 }) store.Save(State(s));
        Assert.Equal([40L, 30L, 20L], store.Files().Select(f => f.Step));
        Assert.Equal(40, store.LoadLatest("fp")!.Step);
        Assert.Equal(40.0, store.LoadLatest("fp")!.W[5]);

        // Flip one byte in the newest: the checksum catches it and the previous state is used.
        var newest = store.PathFor(40);
        var bytes = File.ReadAllBytes(newest);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(newest, bytes);
        var log = new List<string>();
        var logged = new CheckpointStore(store.Directory, log.Add);
        Assert.Equal(30, logged.LoadLatest("fp")!.Step);
        Assert.Contains(log, l => l.Contains("checksum"));

        // A torn write (truncated file) is skipped too; a different configuration is never resumed.
        File.WriteAllBytes(store.PathFor(30), File.ReadAllBytes(store.PathFor(30))[..40]);
        Assert.Equal(20, store.LoadLatest("fp")!.Step);
        Assert.Null(store.LoadLatest("other"));
        Assert.Empty(Directory.GetFiles(store.Directory, "*.tmp*"));
    }

    private static List<TeacherStudentRow> Run(TeacherStudentConfig c)
    {
        using var t = new TeacherStudentTrainer(c, TeacherStudentData.Create(c));
        return t.Run().ToList();
    }

    private static List<TeacherStudentRow> WithoutResume(IEnumerable<TeacherStudentRow> rows) =>
        rows.Select(r => r with { ResumedFromStep = 0 }).ToList();

    [Fact]
    public void Resuming_from_any_saved_state_reproduces_the_uninterrupted_run_bit_for_bit()
    {
        var baseline = Run(TeacherStudentTests.Small(steps: 300, checkpoints: [0, 5, 50, 120, 300]));
        string dir = TempDir();
        var c = TeacherStudentTests.Small(steps: 300, checkpoints: [0, 5, 50, 120, 300])
            with { CheckpointDir = dir, CheckpointEvery = 37 };
        Assert.Equal(baseline, Run(c));                       // saving states changes nothing
        var store = new StateStore(dir);
        Assert.Equal([300L, 296L, 259L], store.Files().Select(f => f.Step));

        // Remove the final state: the run resumes from step 296 and ends identically.
        File.Delete(store.PathFor(300));
        var resumed = Run(c);
        Assert.Equal(296, resumed[^1].ResumedFromStep);
        Assert.Equal(baseline, WithoutResume(resumed));

        // Remove the final state again and corrupt the newest intermediate one: falls back to 259.
        File.Delete(store.PathFor(300));
        var bytes = File.ReadAllBytes(store.PathFor(296));
        bytes[100] ^= 0xFF;
        File.WriteAllBytes(store.PathFor(296), bytes);
        var fallback = Run(c);
        Assert.Equal(259, fallback[^1].ResumedFromStep);
        Assert.Equal(baseline, WithoutResume(fallback));
    }

    [Fact]
    public void A_state_saved_mid_way_resumes_rows_reported_before_it()
    {
        string dir = TempDir();
        var c = TeacherStudentTests.Small(steps: 100, checkpoints: [0, 10, 100])
            with { CheckpointDir = dir, CheckpointEvery = 25 };
        var full = Run(c);
        var store = new StateStore(dir);
        File.Delete(store.PathFor(100));
        File.Delete(store.PathFor(75));
        var resumed = Run(c);   // from step 50: rows 0 and 10 come from the saved state
        Assert.Equal(50, resumed[^1].ResumedFromStep);
        Assert.Equal(full, WithoutResume(resumed));
    }

    [Fact]
    public void A_state_saved_in_the_format_before_StateStore_is_still_resumed()
    {
        // Teacher-student wrote ckpt-STEP.bin (CheckpointStore) before every kind shared state-STEP.bin: a run
        // interrupted then must go on from its old file after an upgrade.
        string dir = TempDir();
        var c = TeacherStudentTests.Small(steps: 100, checkpoints: [0, 10, 100])
            with { CheckpointDir = dir, CheckpointEvery = 25 };
        var full = Run(c);
        var states = new StateStore(dir);
        var at50 = StateStore.TryRead(states.PathFor(50), out _)!;
        foreach (var (_, path) in states.Files().ToList()) File.Delete(path);
        File.Delete(states.PathFor(50));
        new CheckpointStore(dir).Save(new TrainingState(at50.Fingerprint, 50, c.M, c.D, at50.Arrays["w"],
            at50.Arrays["a"], at50.Arrays["w0"], at50.Arrays["a0"], at50.RowsJson));
        Assert.Empty(Directory.GetFiles(dir, "state-*.bin"));
        var resumed = Run(c);
        Assert.Equal(50, resumed[^1].ResumedFromStep);
        Assert.Equal(full, WithoutResume(resumed));
        Assert.NotEmpty(Directory.GetFiles(dir, "state-*.bin"));   // and goes on in the new format
    }
}
