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
    [JsonPropertyName("train_loss")] public double? TrainLoss { get; set; }
    [JsonPropertyName("test_loss")] public double? TestLoss { get; set; }
    [JsonPropertyName("kernel_distance")] public double? KernelDistance { get; set; }
    [JsonPropertyName("hamming_distance")] public double? HammingDistance { get; set; }
    [JsonPropertyName("parameter_distance")] public double? ParameterDistance { get; set; }
    [JsonPropertyName("delta_drift")] public double? DeltaDrift { get; set; }
    [JsonPropertyName("loss")] public double? Loss { get; set; }
    [JsonPropertyName("value")] public double? Value { get; set; }
    // grokking (added columns; a kind that does not report them leaves them null)
    [JsonPropertyName("val_loss")] public double? ValLoss { get; set; }
    [JsonPropertyName("train_accuracy")] public double? TrainAccuracy { get; set; }
    [JsonPropertyName("val_accuracy")] public double? ValAccuracy { get; set; }
    [JsonPropertyName("steps_to_grok")] public double? StepsToGrok { get; set; }
    // rhm (added columns)
    [JsonPropertyName("test_accuracy")] public double? TestAccuracy { get; set; }
    [JsonPropertyName("train_size")] public double? TrainSize { get; set; }
    [JsonPropertyName("sample_complexity")] public double? SampleComplexity { get; set; }
    [JsonPropertyName("sample_complexity_interpolated")] public double? SampleComplexityInterpolated { get; set; }
    // cnn-mnist (added column)
    [JsonPropertyName("filter_smoothness")] public double? FilterSmoothness { get; set; }
    /// <summary>The run's full spec as JSON text (what the run was given, axis values and seed included).</summary>
    [JsonPropertyName("params_json")] public string ParamsJson { get; set; } = "";

    /// <summary>
    /// Columns beyond the fixed ones, by name: axis values (a sweep over `width`), metrics of kinds declared
    /// after this class (a `command` run's own). Each is a nullable double column (<see cref="ResultParquet"/>);
    /// readers that union files by name see them as ordinary columns.
    /// </summary>
    [ParquetIgnore, JsonPropertyName("extra")] public Dictionary<string, double?>? Extra { get; set; }

    /// <summary>The metric columns by contract name, for refinement and plotting.</summary>
    public double? Metric(string name) => name switch
    {
        "train_loss" => TrainLoss,
        "test_loss" => TestLoss,
        "kernel_distance" => KernelDistance,
        "hamming_distance" => HammingDistance,
        "parameter_distance" => ParameterDistance,
        "delta_drift" => DeltaDrift,
        "loss" => Loss,
        "value" => Value,
        "val_loss" => ValLoss,
        "train_accuracy" => TrainAccuracy,
        "val_accuracy" => ValAccuracy,
        "steps_to_grok" => StepsToGrok,
        "test_accuracy" => TestAccuracy,
        "train_size" => TrainSize,
        "sample_complexity" => SampleComplexity,
        "sample_complexity_interpolated" => SampleComplexityInterpolated,
        "filter_smoothness" => FilterSmoothness,
        _ => Extra?.GetValueOrDefault(name),
    };

    /// <summary>Sets a metric column by contract name; returns false for an unknown name.</summary>
    public bool SetMetric(string name, double? v)
    {
        switch (name)
        {
            case "train_loss": TrainLoss = v; return true;
            case "test_loss": TestLoss = v; return true;
            case "kernel_distance": KernelDistance = v; return true;
            case "hamming_distance": HammingDistance = v; return true;
            case "parameter_distance": ParameterDistance = v; return true;
            case "delta_drift": DeltaDrift = v; return true;
            case "loss": Loss = v; return true;
            case "value": Value = v; return true;
            case "val_loss": ValLoss = v; return true;
            case "train_accuracy": TrainAccuracy = v; return true;
            case "val_accuracy": ValAccuracy = v; return true;
            case "steps_to_grok": StepsToGrok = v; return true;
            case "test_accuracy": TestAccuracy = v; return true;
            case "train_size": TrainSize = v; return true;
            case "sample_complexity": SampleComplexity = v; return true;
            case "sample_complexity_interpolated": SampleComplexityInterpolated = v; return true;
            case "filter_smoothness": FilterSmoothness = v; return true;
            default: return false;
        }
    }

    /// <summary>Sets a column by name: a metric column above, or an extra column.</summary>
    public void SetColumn(string name, double? v)
    {
        if (!SetMetric(name, v)) (Extra ??= [])[name] = v;
    }

    public static readonly string[] MetricNames = ["train_loss", "test_loss", "kernel_distance", "hamming_distance", "parameter_distance", "delta_drift", "loss", "value", "val_loss", "train_accuracy", "val_accuracy", "steps_to_grok", "test_accuracy", "train_size", "sample_complexity", "sample_complexity_interpolated", "filter_smoothness"];
}
