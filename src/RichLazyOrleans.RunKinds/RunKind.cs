using System.Text.Json.Nodes;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// One kind of run (ENGINEERING.md contract): a spec in, one JSON object per checkpoint or time
/// point out. Kinds validate their whole spec before doing any work.
/// </summary>
public interface IRunKind
{
    /// <summary>The name used on the command line and in sweep specs, e.g. "single-neuron".</summary>
    string Name { get; }
    /// <summary>One line for `richlazy run --help`.</summary>
    string Summary { get; }
    /// <summary>
    /// Every spec key the kind accepts, each once, in the order the reference lists them (docs/spec-keys.md and
    /// `run --help` are generated from it; a test checks that the parser reads no key missing here).
    /// </summary>
    IReadOnlyList<SpecKey> Keys { get; }
    /// <summary>Metrics a sweep may refine on, with their ranges (scalar output keys of the last row).</summary>
    IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; }
    /// <summary>
    /// Every number a row reports, each a result column (the metrics, and outputs that are not refinement targets):
    /// the one declaration the Parquet schema, refinement and plots use.
    /// </summary>
    IReadOnlyCollection<string> OutputColumns => Metrics.Keys.ToArray();
    /// <summary>Numeric spec keys a sweep may use as an axis.</summary>
    IReadOnlySet<string> AxisParameters { get; }
    /// <summary>Axis parameters that take integers (widths, sizes): a sweep rounds their grid values to the nearest
    /// integer.</summary>
    IReadOnlySet<string> IntegerAxes => NoIntegerAxes;
    private static readonly IReadOnlySet<string> NoIntegerAxes = new HashSet<string>();
    /// <summary>Whether runs of this kind take a `seed` key (theory kinds are deterministic and do not).</summary>
    bool HasSeed { get; }
    /// <summary>Whether runs save resumable states (they take `checkpoint_dir`).</summary>
    bool Resumable => false;
    /// <summary>Whether the kind's engine runs on CUDA (`device: cuda[:N]`; its `auto` takes a GPU slot).</summary>
    bool Cuda => false;
    /// <summary>Spec keys that name files or directories: a shared silo confines them (<see cref="PathRoots"/>).
    /// </summary>
    IReadOnlyList<PathKey> PathKeys => [];
    /// <summary>Bytes one run of this spec holds at its peak, estimated (<see cref="RunMemory"/>); 0: negligible.
    /// </summary>
    double MemoryBytes(Spec spec) => 0;
    /// <summary>Checks a spec without running it: the same one-line <see cref="SpecException"/> as
    /// <see cref="Run"/>.</summary>
    void Validate(Spec spec);
    /// <summary>
    /// Runs the spec; throws <see cref="SpecException"/> on bad input before any work.
    /// <paramref name="log"/> receives progress and diagnostics, one line each;
    /// <paramref name="rowReady"/> receives each row as soon as it exists (long runs stream them).
    /// </summary>
    IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default);

    /// <summary>Runs the spec knowing where it executes (<see cref="RunContext"/>); kinds that do not need it run as
    /// above.</summary>
    IReadOnlyList<JsonObject> Run(Spec spec, RunContext context, Action<string>? log, Action<JsonObject>? rowReady,
        CancellationToken cancellationToken) => Run(spec, log, rowReady, cancellationToken);

    /// <summary>Open kinds (`command`) take any axis and declare their metrics in the spec's params.</summary>
    bool Open => false;
}

/// <summary>All run kinds by name.</summary>
public static class RunKindRegistry
{
    public static IReadOnlyList<IRunKind> All { get; } =
    [
        new SingleNeuronRun(),
        new TwoLayerLinearRun(),
        new DeepLinearRun(),
        new ImplicitBiasRun(),
        new SyntheticRun(),
        new TeacherStudentRun(),
        new GrokkingRun(),
        new RhmRun(),
        new CnnMnistRun(),
        new CommandRun(),
    ];

    /// <summary>The metric columns every result file has: each kind's <see cref="IRunKind.OutputColumns"/>.</summary>
    public static IReadOnlyList<string> MetricColumns { get; } =
        All.SelectMany(k => k.OutputColumns).Distinct().ToArray();

    public static IRunKind Get(string name) =>
        All.FirstOrDefault(k => k.Name == name)
        ?? throw new SpecException($"unknown run kind '{name}' (known: {string.Join(", ", All.Select(k => k.Name))})");
}

internal static class Json
{
    /// <summary>A number, or null where JSON has no literal (NaN, ±∞ from a diverged run).</summary>
    public static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    public static JsonArray Array(IEnumerable<double> values) =>
        new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    public static JsonArray Rows(Theory.Matrix m) =>
        new(Enumerable.Range(0, m.Rows)
            .Select(i => (JsonNode?)Array(Enumerable.Range(0, m.Cols).Select(j => m[i, j]))).ToArray());
}
