using System.Text.Json.Serialization;
using Parquet.Serialization.Attributes;

namespace RichLazyOrleans.Results;

/// <summary>
/// One row of DIR/runs/*.parquet: one (run, checkpoint) of a sweep (ENGINEERING.md contract).
/// Column names are the contract's snake_case names; metrics a kind does not report are null.
/// </summary>
public sealed class ResultRow
{
    [JsonPropertyName("sweep_id")] public string SweepId { get; set; } = "";
    [JsonPropertyName("run_id")] public string RunId { get; set; } = "";
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("tau")] public double? Tau { get; set; }
    [JsonPropertyName("delta")] public double? Delta { get; set; }
    [JsonPropertyName("alpha")] public double? Alpha { get; set; }
    [JsonPropertyName("seed")] public long Seed { get; set; }
    [JsonPropertyName("step")] public long Step { get; set; }
    /// <summary>Time of the theory kinds (null for step-based kinds).</summary>
    [JsonPropertyName("t")] public double? T { get; set; }
    /// <summary>Refinement level at which the run's grid point was added (0: initial lattice).</summary>
    [JsonPropertyName("depth")] public int Depth { get; set; }
    [JsonPropertyName("status")] public string Status { get; set; } = "ok";
    /// <summary>
    /// Seconds the run executed on its slot up to this row: the wait for a slot is not in it (that is
    /// <see cref="QueuedSeconds"/>). Equal to <see cref="FinishedAt"/> − <see cref="StartedAt"/>; measured
    /// on a monotonic clock.
    /// </summary>
    [JsonPropertyName("wall_seconds")] public double WallSeconds { get; set; }
    /// <summary>UTC time the run began executing on its slot (the same on every row of a run attempt).</summary>
    [JsonPropertyName("started_at")]
    [ParquetTimestamp(ParquetTimestampResolution.Microseconds, useLogicalTimestamp: true, isAdjustedToUTC: true)]
    public DateTime StartedAt { get; set; }
    /// <summary>
    /// UTC end of the run's execution for rows reported when the run ends. Rows that long runs stream
    /// while they go on are written before the run ends: theirs is the time the run produced the row
    /// (reached that checkpoint), so finished_at − started_at is the execution time up to the row.
    /// </summary>
    [JsonPropertyName("finished_at")]
    [ParquetTimestamp(ParquetTimestampResolution.Microseconds, useLogicalTimestamp: true, isAdjustedToUTC: true)]
    public DateTime FinishedAt { get; set; }
    /// <summary>Seconds the run waited for a slot on its silo: from the run grain's start to its slot's start.
    /// </summary>
    [JsonPropertyName("queued_seconds")] public double QueuedSeconds { get; set; }
    [JsonPropertyName("resumed_from_step")] public long ResumedFromStep { get; set; }
    /// <summary>Lattice coordinates of the grid point (integers at the finest resolution).</summary>
    [JsonPropertyName("lattice_i")] public int LatticeI { get; set; }
    [JsonPropertyName("lattice_j")] public int LatticeJ { get; set; }
    /// <summary>The silo that ran the run (host:port@generation), for cluster runs.</summary>
    [JsonPropertyName("silo")] public string Silo { get; set; } = "";
    // Metric columns are the metrics the run kinds declare (IRunKind.OutputColumns): their values live in
    // Extra, and a file gets one nullable double column per declared metric (ResultParquet). These typed
    // accessors are conveniences for code that knows a metric; they are not columns of their own.
    [ParquetIgnore, JsonIgnore]
    public double? TrainLoss { get => Metric("train_loss"); set => SetColumn("train_loss", value); }
    [ParquetIgnore, JsonIgnore]
    public double? TestLoss { get => Metric("test_loss"); set => SetColumn("test_loss", value); }
    [ParquetIgnore, JsonIgnore]
    public double? KernelDistance { get => Metric("kernel_distance"); set => SetColumn("kernel_distance", value); }
    [ParquetIgnore, JsonIgnore]
    public double? HammingDistance { get => Metric("hamming_distance"); set => SetColumn("hamming_distance", value); }
    [ParquetIgnore, JsonIgnore]
    public double? ParameterDistance
    {
        get => Metric("parameter_distance");
        set => SetColumn("parameter_distance", value);
    }
    [ParquetIgnore, JsonIgnore]
    public double? DeltaDrift { get => Metric("delta_drift"); set => SetColumn("delta_drift", value); }
    [ParquetIgnore, JsonIgnore]
    public double? Loss { get => Metric("loss"); set => SetColumn("loss", value); }
    [ParquetIgnore, JsonIgnore]
    public double? Value { get => Metric("value"); set => SetColumn("value", value); }
    [ParquetIgnore, JsonIgnore]
    public double? ValLoss { get => Metric("val_loss"); set => SetColumn("val_loss", value); }
    [ParquetIgnore, JsonIgnore]
    public double? TrainAccuracy { get => Metric("train_accuracy"); set => SetColumn("train_accuracy", value); }
    [ParquetIgnore, JsonIgnore]
    public double? ValAccuracy { get => Metric("val_accuracy"); set => SetColumn("val_accuracy", value); }
    [ParquetIgnore, JsonIgnore]
    public double? StepsToGrok { get => Metric("steps_to_grok"); set => SetColumn("steps_to_grok", value); }
    [ParquetIgnore, JsonIgnore]
    public double? TestAccuracy { get => Metric("test_accuracy"); set => SetColumn("test_accuracy", value); }
    [ParquetIgnore, JsonIgnore]
    public double? TrainSize { get => Metric("train_size"); set => SetColumn("train_size", value); }
    [ParquetIgnore, JsonIgnore]
    public double? SampleComplexity
    {
        get => Metric("sample_complexity");
        set => SetColumn("sample_complexity", value);
    }
    [ParquetIgnore, JsonIgnore]
    public double? SampleComplexityInterpolated
    {
        get => Metric("sample_complexity_interpolated");
        set => SetColumn("sample_complexity_interpolated", value);
    }
    [ParquetIgnore, JsonIgnore]
    public double? FilterSmoothness
    {
        get => Metric("filter_smoothness");
        set => SetColumn("filter_smoothness", value);
    }
    /// <summary>The run's full spec as JSON text (what the run was given, axis values and seed included).</summary>
    [JsonPropertyName("params_json")] public string ParamsJson { get; set; } = "";

    /// <summary>
    /// Columns beyond the fixed ones, by name: the metrics (every kind's declared ones, a `command` run's own) and
    /// the sweep's axis values (`width`). Each is a nullable double column (<see cref="ResultParquet"/>); readers
    /// that union files by name see them as ordinary columns.
    /// </summary>
    [ParquetIgnore, JsonPropertyName("extra")] public Dictionary<string, double?>? Extra { get; set; }

    /// <summary>A metric or extra column by name (null when the row has no value for it).</summary>
    public double? Metric(string name) => Extra?.GetValueOrDefault(name);

    /// <summary>Sets a metric or extra column by name.</summary>
    public void SetColumn(string name, double? v) => (Extra ??= [])[name] = v;
}
