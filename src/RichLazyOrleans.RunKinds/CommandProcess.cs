using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace RichLazyOrleans.RunKinds;

/// <summary>A `command` run that failed: the program's exit code, its timeout, or what it printed.</summary>
public sealed class CommandFailedException(string message) : Exception(message);

/// <summary>
/// One `command` run as a child process (ENGINEERING.md protocol):
/// - in: the run spec as JSON on stdin and in `$RICHLAZY_SPEC_FILE`; env RICHLAZY_SWEEP_ID, RICHLAZY_RUN_ID,
///   RICHLAZY_ATTEMPT, RICHLAZY_SLOT, RICHLAZY_CHECKPOINT_DIR (the same for every attempt), RICHLAZY_THREADS and
///   OMP/MKL/OPENBLAS_NUM_THREADS, CUDA_VISIBLE_DEVICES (the slot's GPU, or empty on a CPU slot);
/// - out: JSON Lines on stdout, one object per checkpoint: `step` (integer), the declared metrics (number or null),
///   optional `status` and `resumed_from_step` (<see cref="CommandOutput"/>). Rows go on as they come; a step printed
///   twice counts once. Other lines are logged with a warning and counted. stderr is appended to the run's log.
/// - end: exit 0 is success; another code fails the run with the last stderr lines; past `timeout_s` the program
///   is killed and the run fails; cancellation (silo stopping, sweep stopped) sends SIGTERM, waits `grace_s`, then
///   SIGKILL, and the run counts as interrupted (it resumes from the program's own checkpoints).
/// The program is started through `setpriv --pdeathsig KILL -- setsid` where they exist (util-linux): a SIGKILLed
/// silo takes its programs with it instead of leaving them writing (slot threads live as long as the silo, which
/// that signal needs: it follows the thread that started the child), and the program leads its own process group,
/// so SIGTERM and SIGKILL reach the processes it started too (a shell script's `sleep` kept the output pipe open
/// after the script was gone). Its own children are not killed when the silo is SIGKILLed: only the program is.
/// </summary>
public static class CommandProcess
{
    private const int StderrTail = 20;
    /// <summary>Most characters of stderr a failure reason quotes (the run's log keeps all of it).</summary>
    private const int TailChars = 4096;
    private static readonly string[] Launcher = File.Exists("/usr/bin/setpriv") && File.Exists("/usr/bin/setsid")
        ? ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--", "/usr/bin/setsid"] : [];
    /// <summary>How long the output may stay open after the program exited (a child of it still holding it).</summary>
    private static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(5);

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private const int Sigterm = 15, Sigkill = 9;

    public static IReadOnlyList<JsonObject> Run(CommandConfig c, RunContext context, Action<string>? log,
        Action<JsonObject>? rowReady, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        string specJson = c.Spec.ToJsonString();
        string specFile = CommandSpecFiles.Write(specJson);
        // A program that had no saved state to resume from must print its rows: if it prints none, it is broken.
        bool fresh = c.CheckpointDir is not { } cd || !Directory.Exists(cd)
            || !Directory.EnumerateFileSystemEntries(cd).Any();
        using var logFile = OpenLog(context, c);
        var tail = new Queue<string>();
        void Stderr(string line)
        {
            lock (tail)
            {
                tail.Enqueue(line.Length > TailChars ? line[^TailChars..] : line);   // the log keeps it whole
                if (tail.Count > StderrTail) tail.Dequeue();
                if (logFile is not null) logFile.WriteLine(line);
                else log?.Invoke(line);
            }
        }
        void Warn(string line) => Stderr(logFile is null ? line : $"richlazy: {line}");
        try
        {
            using var p = Start(c, context, specFile);
            p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Stderr(e.Data); };
            p.BeginErrorReadLine();
            // Written on the side: a program that never reads stdin must not block the run on a full pipe.
            _ = Task.Run(() =>
            {
                try { p.StandardInput.Write(specJson); p.StandardInput.Close(); }
                catch (IOException) { }   // it exited or closed stdin first: the spec file is there too
            });
            var stop = new Stopper(p, c.GraceSeconds, Launcher.Length > 0);
            using var onCancel = ct.Register(() => stop.Terminate("cancelled"));
            using var timer = c.TimeoutSeconds is { } t
                ? new Timer(_ => stop.Terminate("timeout"), null, TimeSpan.FromSeconds(t), Timeout.InfiniteTimeSpan)
                : null;
            var output = new CommandOutput(c.Metrics, rowReady, Warn);
            var reading = Task.Run(() => output.Read(p.StandardOutput));
            while (!p.WaitForExit(100)) { }   // the program itself (not yet the end of its output)
            if (!reading.Wait(DrainAfterExit))
                Warn("the program exited but its output stayed open (a process it started?); stopping its group");
            // What is left of its process group now is an orphan: it must not go on writing or holding the pipes.
            stop.KillGroup();
            var rows = reading.GetAwaiter().GetResult();
            p.WaitForExit();   // the stderr events too
            stop.Done();
            context.Counts.IgnoredLines += output.Ignored;
            if (stop.Reason == "cancelled") throw new OperationCanceledException(ct);
            if (stop.Reason == "timeout")
                throw new CommandFailedException($"killed after timeout_s = {c.TimeoutSeconds} s{Tail(tail)}");
            if (p.ExitCode != 0)
                throw new CommandFailedException($"exit code {p.ExitCode}{Tail(tail)}");
            if (rows.Count == 0 && fresh)
                throw new CommandFailedException("the program exited 0 but printed no rows (one JSON object per line "
                    + $"on stdout, with an integer 'step'){(output.Ignored > 0 ? $"; {output.Ignored} line(s) were "
                    + "not rows" : "")}{Tail(tail)}");
            return rows;
        }
        finally
        {
            CommandSpecFiles.Remove(specFile);
        }
    }

    private static Process Start(CommandConfig c, RunContext context, string specFile)
    {
        var psi = new ProcessStartInfo
        {
            FileName = Launcher.Length > 0 ? Launcher[0] : Resolve(c.Command[0], c.Workdir),
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = c.Workdir ?? Environment.CurrentDirectory,
        };
        foreach (var a in Launcher.Skip(1)) psi.ArgumentList.Add(a);
        if (Launcher.Length > 0) psi.ArgumentList.Add(Resolve(c.Command[0], c.Workdir));
        foreach (var a in c.Command.Skip(1)) psi.ArgumentList.Add(a);
        foreach (var (k, v) in c.Env) psi.Environment[k] = v;
        string threads = c.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (c.CheckpointDir is { } dir) Directory.CreateDirectory(dir);
        var ours = new Dictionary<string, string>
        {
            ["RICHLAZY_SPEC_FILE"] = specFile,
            ["RICHLAZY_SWEEP_ID"] = context.SweepId,
            ["RICHLAZY_RUN_ID"] = context.RunId,
            ["RICHLAZY_ATTEMPT"] = context.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RICHLAZY_SLOT"] = context.Slot.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RICHLAZY_CHECKPOINT_DIR"] = c.CheckpointDir ?? "",
            ["RICHLAZY_THREADS"] = threads,
            ["OMP_NUM_THREADS"] = threads,
            ["MKL_NUM_THREADS"] = threads,
            ["OPENBLAS_NUM_THREADS"] = threads,
            // Empty hides every GPU from a run on a CPU slot (a program would otherwise take GPU 0 beside others).
            ["CUDA_VISIBLE_DEVICES"] = context.Gpu ?? "",
        };
        foreach (var (k, v) in ours) psi.Environment[k] = v;   // ours last: a spec's env cannot fake them
        try { return Process.Start(psi) ?? throw new CommandFailedException($"could not start '{c.Command[0]}'"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CommandFailedException($"could not start '{c.Command[0]}': {e.Message}");
        }
    }

    /// <summary>The program's path: as given when it has a '/', else found on PATH; it must be executable.</summary>
    public static string Resolve(string program, string? workdir)
    {
        IEnumerable<string> candidates = program.Contains('/')
            ? [Path.GetFullPath(program, workdir ?? Environment.CurrentDirectory)]
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(d => Path.Combine(d, program));
        foreach (var path in candidates)
            if (File.Exists(path) && (OperatingSystem.IsWindows()
                || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute
                    | UnixFileMode.OtherExecute)) != 0))
                return path;
        throw new SpecException(program.Contains('/')
            ? $"key 'command': '{program}' is not an executable file"
            : $"key 'command': '{program}' is not on PATH");
    }

    private static StreamWriter? OpenLog(RunContext context, CommandConfig c)
    {
        if (context.LogPath is not { } path) return null;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var w = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
            { AutoFlush = true };
        w.WriteLine($"=== {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} attempt {context.Attempt}, slot {context.Slot}: "
            + string.Join(' ', c.Command));
        return w;
    }

    private static string Tail(Queue<string> tail)
    {
        lock (tail) return tail.Count == 0 ? "" : "; stderr: " + CommandOutput.Tail(tail.TakeLast(5), TailChars);
    }

    /// <summary>SIGTERM, then SIGKILL after the grace period, to the program's process group (or, without
    /// setsid, to the program and its tree); remembers why.</summary>
    private sealed class Stopper(Process p, double graceSeconds, bool group)
    {
        private int _stopping;
        private Timer? _kill;
        public string? Reason { get; private set; }

        public void Terminate(string reason)
        {
            if (Interlocked.Exchange(ref _stopping, 1) == 1) return;
            Reason = reason;
            try
            {
                if (p.HasExited) return;
                if (OperatingSystem.IsWindows()) { Kill(); return; }
                // setpriv and setsid exec the program, so this pid is the program itself and leads its group.
                kill(group ? -p.Id : p.Id, Sigterm);
                _kill = new Timer(_ => Kill(), null, TimeSpan.FromSeconds(graceSeconds), Timeout.InfiniteTimeSpan);
            }
            catch (InvalidOperationException) { }   // it exited meanwhile
        }

        private void Kill()
        {
            KillGroup();
            try { if (!p.HasExited) p.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
        }

        /// <summary>SIGKILL to every process left in the program's group (its children outliving it).</summary>
        public void KillGroup()
        {
            if (group && !OperatingSystem.IsWindows()) kill(-p.Id, Sigkill);
        }

        public void Done() => _kill?.Dispose();
    }
}
