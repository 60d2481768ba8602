using System.Diagnostics.Metrics;

namespace RichLazyOrleans.Training;

/// <summary>
/// The training engines' one meter (OpenTelemetry exports it by this name): gradient steps, tagged by kind. Each
/// engine had its own meter name and the silo exported only one of them, so grokking and cnn-mnist steps never
/// reached OpenTelemetry, and rhm counted none.
/// </summary>
public static class TrainingMeter
{
    public const string Name = "RichLazyOrleans.Training";

    private static readonly Meter Meter = new(Name);

    /// <summary>Gradient steps taken, counted in blocks (the engines add 1024 every 1024 steps).</summary>
    public static readonly Counter<long> Steps = Meter.CreateCounter<long>("richlazy.training.steps",
        description: "gradient steps");

    /// <summary>Counts <paramref name="steps"/> steps of a <paramref name="kind"/> run.</summary>
    public static void Add(string kind, long steps) =>
        Steps.Add(steps, new KeyValuePair<string, object?>("kind", kind));
}
