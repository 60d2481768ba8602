using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RichLazyOrleans.Engine;

/// <summary>
/// OpenTelemetry sources (exported only when the host configures an exporter): a trace per sweep
/// with a span per run; runs by state; slot utilisation. Training steps come from
/// RichLazyOrleans.Training's own meter.
/// </summary>
public static class Telemetry
{
    public const string Name = "RichLazyOrleans";
    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);
    public static readonly Counter<long> RunsCompleted =
        Meter.CreateCounter<long>("richlazy.runs.completed", description: "runs finished, by status");
    public static readonly UpDownCounter<long> RunsQueued =
        Meter.CreateUpDownCounter<long>("richlazy.runs.queued", description: "runs waiting in sweep coordinators");
    public static readonly UpDownCounter<long> RunsInFlight = Meter.CreateUpDownCounter<long>(
        "richlazy.runs.in_flight", description: "runs dispatched and not yet finished");
}
