using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RichLazyOrleans.Grains;

/// <summary>OpenTelemetry sources: a trace per sweep with a span per run; run counters.</summary>
public static class Telemetry
{
    public const string Name = "RichLazyOrleans";
    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);
    public static readonly Counter<long> RunsCompleted = Meter.CreateCounter<long>("richlazy.runs.completed", description: "runs finished, by status");
}
