using Orleans.Concurrency;
using RichLazyOrleans.Engine;

namespace RichLazyOrleans.GrainInterfaces;

/// <summary>A sweep to start: the spec text (YAML) and where results go.</summary>
[GenerateSerializer, Immutable]
public sealed record SweepRequest([property: Id(0)] string SpecYaml, [property: Id(1)] string ResultsDir);

/// <summary>Where a sweep stands.</summary>
[GenerateSerializer, Immutable]
public sealed record SweepStatus(
    [property: Id(0)] string SweepId,
    [property: Id(1)] string State,          // "running", "cancelling", "finishing", "complete", "cancelled", "failed"
    [property: Id(2)] int Queued,
    [property: Id(3)] int Running,            // executing on a slot (see Waiting)
    [property: Id(4)] int Done,
    [property: Id(5)] int Failed,
    [property: Id(6)] int Depth,
    [property: Id(7)] int MaxDepth,
    [property: Id(8)] int GridPoints,
    [property: Id(9)] int RowsWritten,
    [property: Id(10)] double ElapsedSeconds,
    [property: Id(11)] string? Message,
    [property: Id(12)] int Redispatched = 0,   // runs started again after their silo died or stopped
    [property: Id(13)] int Recoveries = 0,     // times the coordinator was restored from durable state
    [property: Id(14)] string? Failures = null, // failed runs counted by reason, most frequent first
                                                // ("2x reason; 1x other")
    [property: Id(15)] int Waiting = 0,         // dispatched to a silo, waiting there for a free slot
    [property: Id(16)] string? ResultsDir = null,
    [property: Id(17)] int IgnoredLines = 0)    // stdout lines of `command` programs that were not rows
{
    public bool Finished => State is "complete" or "cancelled" or "failed";
}

/// <summary>One grain per run, keyed "SWEEP_ID/RUN_ID": owns its configuration and status, holds a device slot
/// while running.</summary>
public interface IRunGrain : IGrainWithStringKey
{
    /// <summary>
    /// Makes sure the run is executing and returns at once; the result goes to the sweep's
    /// coordinator. Idempotent: the coordinator calls it again for runs in flight, and a fresh
    /// activation (its silo died) starts the run again, from its last checkpoint. Returns the
    /// attempt this call started (1 the first time; more when the run was moved or restarted;
    /// kinds without durable state always say 1), or 0 when it started nothing (already executing
    /// here, or this silo is stopping).
    /// </summary>
    Task<int> Start(RunRequest request);
    [AlwaysInterleave] Task<string> GetStatus();
    /// <summary>Its sweep was stopped: the run saves its state and stops (or does not start), and reports itself
    /// interrupted; resuming the sweep continues it from that state.</summary>
    [AlwaysInterleave] Task Stop();
}

/// <summary>One coordinator per sweep, keyed by the sweep id (the spec's name).</summary>
public interface ISweepCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Validates and starts the sweep; a bad spec throws with a one-line message naming the key.</summary>
    Task<SweepStatus> Start(SweepRequest request);
    Task RunFinished(RunResult result);
    /// <summary>
    /// Rows a run has produced and not sent before, typed; awaited, so the run sends each row once and in order
    /// (a failed call leaves them to the next one). Repeats of a (run_id, step) are ignored.
    /// </summary>
    Task RunProgress(Immutable<RowBatch> batch);
    /// <summary>The run took a slot and executes (before: it waited for one); status counts it as running.</summary>
    [OneWay] Task RunStarted(string runId);
    [AlwaysInterleave] Task<SweepStatus> GetStatus();
    /// <summary>Stops dispatching; runs already started finish and are recorded.</summary>
    Task<SweepStatus> Cancel();
    /// <summary>Stops dispatching, and runs already started save their state and stop instead of finishing
    /// (Ctrl+C on `sweep run` in a cluster); `Resume` continues them from there.</summary>
    Task<SweepStatus> Stop();
    /// <summary>A run stopped before finishing because its silo is shutting down (it saved a checkpoint); start it
    /// elsewhere.</summary>
    [OneWay] Task RunInterrupted(string runId, string silo, RowBatch? tail = null);   // with its unsent rows
    /// <summary>
    /// Wakes the sweep (restoring it from durable state) and starts its unfinished runs again at once; a cancelled
    /// or failed sweep continues where it stopped.
    /// </summary>
    Task<SweepStatus> Resume();
    /// <summary>Forgets a sweep that is not running (its state and reminder); returns its results directory.</summary>
    Task<string> Delete();
}

/// <summary>The cluster's device slots: each silo registers how many runs it may hold at once.</summary>
public interface ISlotRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>A silo's heartbeat: it has this many slots. Silos not heard from for a while stop counting.</summary>
    Task Register(string silo, int slots, int gpus = 0);   // gpus: how many of the slots are GPU slots
    /// <summary>GPU slots in the cluster now.</summary>
    [AlwaysInterleave] Task<int> TotalGpus();
    Task Unregister(string silo);
    [AlwaysInterleave] Task<int> TotalSlots();
}

/// <summary>The names of the sweeps this cluster knows (key 0), for `sweep list`. Durable (grain storage).</summary>
public interface ISweepRegistryGrain : IGrainWithIntegerKey
{
    Task Add(string sweepId);
    Task Remove(string sweepId);
    [AlwaysInterleave] Task<string[]> List();
}
