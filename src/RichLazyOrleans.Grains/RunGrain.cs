using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Results;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Grains;

/// <summary>
/// One run. Start returns at once; the run waits for a slot on this silo, executes the run kind on
/// its own thread (never on the Orleans scheduler) and reports its rows to the sweep's coordinator,
/// which writes them. Placement by activation count spreads runs over the silos.
/// </summary>
[ActivationCountBasedPlacement]
public sealed class RunGrain(SlotPool slots, ILogger<RunGrain> logger) : Grain, IRunGrain
{
    private RunRequest? _request;
    private string _status = "new";
    private readonly System.Collections.Concurrent.ConcurrentQueue<JsonObject> _fresh = new();   // rows not yet sent
    private int _sentRows;
    private IGrainTimer? _progressTimer;
    private readonly Stopwatch _clock = new();

    public Task Start(RunRequest request)
    {
        if (_request is not null) return Task.CompletedTask;   // a repeated Start is a no-op
        _request = request;
        _status = "queued";
        _clock.Start();
        DelayDeactivation(TimeSpan.FromDays(30));   // background work does not count as activity
        // Rows of long runs reach the coordinator (and the Parquet files) while the run goes on. Only
        // resumable (training) kinds run long; theory and synthetic runs skip the timer's cost.
        if (RunKindRegistry.Get(request.Kind).Resumable)
            _progressTimer = this.RegisterGrainTimer(_ => SendFreshRows(), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        _ = ExecuteAsync(request);
        return Task.CompletedTask;
    }

    public Task<string> GetStatus() => Task.FromResult(_sentRows > 0 ? $"{_status} ({_sentRows} rows reported)" : _status);

    private async Task SendFreshRows()
    {
        if (_request is not { } r || _fresh.IsEmpty) return;
        var batch = new List<JsonObject>();
        while (_fresh.TryDequeue(out var row)) batch.Add(row);
        var spec = (JsonObject)JsonNode.Parse(r.SpecJson)!;
        var rows = RunRows.ToResultRows(r, spec, batch, _clock.Elapsed.TotalSeconds, RuntimeIdentity);
        _sentRows += rows.Count;
        await GrainFactory.GetGrain<ISweepCoordinatorGrain>(r.SweepId).RunProgress(r.RunId, System.Text.Json.JsonSerializer.Serialize(rows));
    }

    private async Task ExecuteAsync(RunRequest r)
    {
        var clock = Stopwatch.StartNew();
        RunResult result;
        string silo = RuntimeIdentity;
        try
        {
            _status = "waiting for a slot";
            // A span per run, a child of its sweep's trace.
            ActivityContext.TryParse(r.TraceParent, null, out var parent);
            using var activity = Telemetry.Source.StartActivity("run", ActivityKind.Internal, parent);
            activity?.SetTag("run.id", r.RunId);
            activity?.SetTag("run.kind", r.Kind);
            var spec = (JsonObject)JsonNode.Parse(r.SpecJson)!;
            // The run executes on one of this silo's slot threads; awaiting it here frees the
            // Orleans scheduler, and the continuation comes back to this activation.
            // (The lambda runs on a slot thread, so it touches no grain state.)
            var rows = await slots.RunAsync(() => RunKindRegistry.Get(r.Kind).Run(new Spec((JsonObject)spec.DeepClone()), rowReady: row => _fresh.Enqueue((JsonObject)row.DeepClone())));
            _progressTimer?.Dispose();
            _status = "reporting";
            var resultRows = RunRows.ToResultRows(r, spec, rows, clock.Elapsed.TotalSeconds, silo);
            var last = resultRows.Count > 0 ? resultRows[^1] : null;
            string status = last?.Status ?? "ok";
            result = new RunResult(r.RunId, true, status, r.Metric is null ? null : last?.Metric(r.Metric), resultRows.Count,
                clock.Elapsed.TotalSeconds, null, silo, System.Text.Json.JsonSerializer.Serialize(resultRows));
            Telemetry.RunsCompleted.Add(1, new KeyValuePair<string, object?>("status", status));
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "run {RunId} failed", r.RunId);
            result = new RunResult(r.RunId, false, "failed", null, 0, clock.Elapsed.TotalSeconds, $"{e.GetType().Name}: {e.Message.Split('\n')[0]}", silo, "[]");
            Telemetry.RunsCompleted.Add(1, new KeyValuePair<string, object?>("status", "failed"));
        }
        _status = result.Status;
        try { await GrainFactory.GetGrain<ISweepCoordinatorGrain>(r.SweepId).RunFinished(result); }
        catch (Exception e) { logger.LogError(e, "could not report run {RunId} to its coordinator", r.RunId); }
        DeactivateOnIdle();
    }
}
