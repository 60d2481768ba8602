using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RichLazyOrleans.RunKinds;

/// <summary>A `command` run's spec, checked (ENGINEERING.md: the `command` kind).</summary>
public sealed record CommandConfig(
    IReadOnlyList<string> Command, IReadOnlyList<string> Metrics, string? Workdir,
    IReadOnlyDictionary<string, string> Env, double? TimeoutSeconds, double GraceSeconds, bool Resumable,
    int Threads, string? CheckpointDir, JsonObject Spec);

/// <summary>
/// The researcher's own training program as a run kind: any language, run as a child process. It gets the whole
/// run spec as JSON on stdin and in `$RICHLAZY_SPEC_FILE`, and reports one JSON object per checkpoint on stdout
/// (<see cref="CommandProcess"/> has the protocol). Its metrics are declared in the spec (`metrics`), so they are
/// refinement targets and result columns like a built-in kind's; any other key can be an axis.
/// </summary>
public sealed partial class CommandRun : IRunKind
{
    /// <summary>Keys the orchestrator reads; every other key is the program's own.</summary>
    public static readonly string[] ReservedKeys =
        ["command", "metrics", "workdir", "env", "timeout_s", "grace_s", "resumable"];

    /// <summary>
    /// Result columns that are not metrics (the schema's fixed columns): a metric may not take their names.
    /// Kept equal to the schema by a test (RichLazyOrleans.Results is not referenced here).
    /// </summary>
    public static readonly string[] FixedColumns =
    [
        "sweep_id", "run_id", "kind", "tau", "delta", "alpha", "seed", "step", "t", "depth", "status", "wall_seconds",
        "started_at", "finished_at", "queued_seconds", "resumed_from_step", "lattice_i", "lattice_j", "silo",
        "params_json",
    ];

    public string Name => "command";
    public string Summary => "your own training program (any language) as a child process: spec JSON on stdin, "
        + "one JSON object per checkpoint on stdout; every key not listed here goes to the program";
    /// <summary>The orchestrator's keys; the kind is open (<see cref="Open"/>), so any other key is accepted too.
    /// </summary>
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("command", SpecKey.Required, "argv: the program and its arguments, e.g. [python3, train.py]"),
        new("metrics", SpecKey.Required, "names of the metrics the program reports (column names: letters, digits, "
            + "_; not a fixed column)"),
        new("workdir", "the silo's directory", "directory the program runs in"),
        new("env", "{}", "extra environment variables, a mapping of names to strings"),
        new("timeout_s", SpecKey.Optional, "> 0, seconds after which the program is killed and the run fails"),
        new("grace_s", "30", "≥ 0, seconds between SIGTERM and SIGKILL when a run is stopped"),
        new("resumable", "true", "whether the program resumes from RICHLAZY_CHECKPOINT_DIR (a moved run restarts "
            + "there)"),
        new("threads", "1", "integer in [1, 1024]: RICHLAZY_THREADS, OMP/MKL/OPENBLAS_NUM_THREADS, and slots taken"),
        new("checkpoint_dir", "DIR/checkpoints/RUN_ID", "where the program saves states (RICHLAZY_CHECKPOINT_DIR)"),
    ];
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>();
    public IReadOnlySet<string> AxisParameters { get; } = new HashSet<string>();
    public bool HasSeed => true;
    public bool Resumable => true;
    public bool Open => true;
    public IReadOnlyList<PathKey> PathKeys => TrainingKeys.PathKeys;

    public void Validate(Spec spec) => Parse(spec);

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default) =>
        Run(spec, RunContext.Standalone, log, rowReady, cancellationToken);

    public IReadOnlyList<JsonObject> Run(Spec spec, RunContext context, Action<string>? log,
        Action<JsonObject>? rowReady, CancellationToken cancellationToken) =>
        CommandProcess.Run(Parse(spec), context, log, rowReady, cancellationToken);

    /// <summary>The declared metrics of a command spec's params (empty when absent or malformed).</summary>
    public static IReadOnlyList<string> DeclaredMetrics(JsonObject spec) =>
        spec["metrics"] is JsonArray a
            ? a.Select(m => m is JsonValue v && v.TryGetValue(out string? s) ? s : null).OfType<string>().ToArray()
            : [];

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex MetricName();

    public static CommandConfig Parse(Spec spec)
    {
        var json = spec.Json;
        var command = Strings(json, "command", "a list of strings, the program and its arguments: [python3, train.py]");
        if (command.Count == 0 || command[0].Length == 0) throw new SpecException("key 'command' must not be empty");
        var metrics = Strings(json, "metrics", "a list of metric names the program reports: [loss, accuracy]");
        if (metrics.Count == 0) throw new SpecException("key 'metrics' must name at least one metric");
        foreach (var m in metrics)
        {
            if (!MetricName().IsMatch(m))
                throw new SpecException($"key 'metrics': '{m}' must be letters, digits and '_' (a column name)");
            if (FixedColumns.Contains(m))
                throw new SpecException($"key 'metrics': '{m}' is a fixed result column; name the metric otherwise");
        }
        if (metrics.Distinct().Count() != metrics.Count) throw new SpecException("key 'metrics' lists a name twice");
        string? workdir = spec.OptionalString("workdir");
        if (workdir is not null && !Directory.Exists(workdir))
            throw new SpecException($"key 'workdir': no such directory '{workdir}'");
        var env = Env(json);
        double? timeout = spec.Has("timeout_s") ? spec.PositiveNumber("timeout_s") : null;
        double grace = spec.Number("grace_s", 30);
        if (!(grace >= 0)) throw new SpecException($"key 'grace_s' must be >= 0, got {grace}");
        bool resumable = spec.Bool("resumable", true);
        int threads = spec.Has("threads") ? (int)spec.Integer("threads", null, 1, 1024) : 1;
        string? checkpointDir = json["checkpoint_dir"] is JsonValue cv && cv.TryGetValue(out string? cd) ? cd : null;
        CommandProcess.Resolve(command[0], workdir);   // exists and may be executed: refused before the start
        CheckScript(command, workdir);
        return new CommandConfig(command, metrics, workdir, env, timeout, grace, resumable, threads,
            resumable ? checkpointDir : null, json);
    }

    /// <summary>Interpreters whose first argument that is not an option names the script they run.</summary>
    private static readonly string[] Interpreters =
        ["python", "python3", "python2", "bash", "sh", "zsh", "Rscript", "julia", "node", "perl", "ruby", "lua"];

    /// <summary>Options after which an interpreter runs inline code or a module, not a script file.</summary>
    private static readonly string[] InlineOptions = ["-c", "-m", "-e", "--eval", "-E"];

    /// <summary>
    /// `[python3, train.py]`: the script must exist (relative to `workdir`), or every run of the sweep would start
    /// and fail alike. Refused before the start, with the path it looked for.
    /// </summary>
    private static void CheckScript(IReadOnlyList<string> command, string? workdir)
    {
        string name = Path.GetFileName(command[0]);
        if (!Interpreters.Any(i => name == i || name.StartsWith(i + ".", StringComparison.Ordinal)
            || (i == "python3" && name.StartsWith("python3", StringComparison.Ordinal)))) return;
        for (int k = 1; k < command.Count; k++)
        {
            string arg = command[k];
            // -c CODE, -m MODULE, -e CODE, also clustered (bash -lc, perl -ne): no script file to check.
            if (InlineOptions.Contains(arg) || arg.Length > 1 && arg[0] == '-' && arg[1] != '-'
                && arg.IndexOfAny(['c', 'm', 'e', 'E']) > 0) return;
            if (arg is "-W" or "-X") { k++; continue; }   // python options that take a value
            if (arg.StartsWith('-')) continue;
            string path = Path.GetFullPath(arg, workdir ?? Environment.CurrentDirectory);
            if (!File.Exists(path))
                throw new SpecException($"key 'command'[{k}]: {name}'s script {path} does not exist"
                    + (workdir is null ? " (relative to the silo's directory; set workdir)" : $" (workdir {workdir})"));
            return;
        }
    }

    private static List<string> Strings(JsonObject json, string key, string what)
    {
        if (json[key] is not JsonArray a) throw new SpecException($"key '{key}' must be {what}");
        return a.Select((n, i) => n is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw new SpecException($"key '{key}'[{i}] must be a string")).ToList();
    }

    private static Dictionary<string, string> Env(JsonObject json)
    {
        if (json["env"] is null) return [];
        if (json["env"] is not JsonObject o) throw new SpecException("key 'env' must be a mapping of names to strings");
        return o.ToDictionary(kv => kv.Key, kv => kv.Value is JsonValue v && v.TryGetValue(out string? s) ? s
            : kv.Value?.ToJsonString() ?? throw new SpecException($"key 'env.{kv.Key}' must be a string"));
    }
}
