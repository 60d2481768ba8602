using System.Text.Json.Nodes;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Engine;

/// <summary>
/// One attempt of a run on a slot thread, without Orleans: the kind runs its parsed spec (pinned to the slot's GPU
/// where it has one), every row goes once into the attempt's <see cref="RunRowBuffer"/>, and the clock brackets
/// the execution. A grain (or a test) owns the buffer and sends its rows on.
/// </summary>
public sealed class RunExecution(IRunKind kind, JsonObject spec, RunClock clock)
{
    public RunRowBuffer Rows { get; } = new(new RowFactory(kind, spec), clock);
    public RunClock Clock => clock;

    /// <summary>Executes on the calling (slot) thread; throws <see cref="OperationCanceledException"/> when stopped
    /// before or during the run, and the kind's exception when it fails.</summary>
    public void Execute(RunContext context, string? gpu, CancellationToken stop)
    {
        stop.ThrowIfCancellationRequested();   // stopped while it waited for a slot
        clock.Begin();
        try
        {
            var pinned = RunDevice.Pin(kind, (JsonObject)spec.DeepClone(), gpu);
            var rows = kind.Run(new Spec(pinned), context, null, Rows.Add, stop);
            clock.End();
            Rows.Finish(rows);
        }
        finally { clock.End(); }
    }
}
