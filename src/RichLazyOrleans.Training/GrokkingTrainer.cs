using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>
/// Trains the <see cref="GrokkingModel"/> on a + b mod p with <see cref="AdamW"/> (gradients by
/// autograd), reporting train/validation loss and accuracy at each checkpoint and the first
/// evaluated step whose validation accuracy reaches 0.99 (steps_to_grok). Resumable bit-identically
/// from states saved by a <see cref="StateStore"/>.
/// </summary>
/// <remarks>
/// Determinism: data split, init and minibatch order come from the project's <see cref="Rng"/>;
/// embedding lookup and the cross-entropy's label pick are one-hot products (no scatter/index_add
/// in the backward pass); BLAS runs in MKL's reproducible mode (<see cref="TorchRuntime"/>) with a
/// fixed thread count. The minibatch at step s is a pure function of (seed, s), so a resumed run
/// sees the same batches.
/// </remarks>
public sealed class GrokkingTrainer : IDisposable
{

    /// <summary>JSON options of the rows kept in saved states (NaN losses of a diverged run allowed).</summary>
    public static readonly JsonSerializerOptions RowJson = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly GrokkingConfig _c;
    private readonly ModularData _data;
    private readonly GrokkingModel _model;
    private readonly AdamW _adam;
    private readonly Tensor _xTrain, _yTrain, _xVal, _yVal;    // one-hot inputs [n, 3, p+1], labels [n, p]
    private readonly int _nTrain, _batch;
    private long _permEpoch = -1;
    private Tensor? _perm;

    public Action<string>? Log { get; init; }
    public Action<GrokkingRow>? RowReady { get; init; }
    /// <summary>Called about every 5 s with (step, training loss of the last batch).</summary>
    public Action<long, double>? Progress { get; init; }

    public GrokkingModel Model => _model;
    public ModularData Data => _data;

    public GrokkingTrainer(GrokkingConfig config)
    {
        TorchRuntime.Probe(config.Threads);   // first: process-wide settings before any tensor
        _c = config;
        var device = ParseDevice(config.Device);
        _data = ModularData.Create(config.P, config.TrainFraction, config.DataSeed);
        _model = new GrokkingModel(config, device);
        _adam = new AdamW(_model.Parameters, config.Lr, config.Beta1, config.Beta2, config.Eps, config.WeightDecay);
        _nTrain = _data.TrainA.Length;
        _batch = config.BatchSize <= 0 || config.BatchSize >= _nTrain ? _nTrain : config.BatchSize;
        _xTrain = _model.OneHot(_data.TrainA, _data.TrainB).DetachFromDisposeScope();
        _xVal = _model.OneHot(_data.ValA, _data.ValB).DetachFromDisposeScope();
        _yTrain = Labels(_data.TrainC).DetachFromDisposeScope();
        _yVal = Labels(_data.ValC).DetachFromDisposeScope();
    }

    private Tensor Labels(int[] c)
    {
        var y = new double[c.Length * _c.P];
        for (int i = 0; i < c.Length; i++) y[i * _c.P + c[i]] = 1;
        return torch.tensor(y, [c.Length, _c.P], ScalarType.Float64, _model.Device).to_type(_model.DType);
    }

    private static Device ParseDevice(string device)
    {
        if (device == "cpu") return torch.CPU;
        if (device == "cuda" || device.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new TrainingSpecException("device", $"'{device}' requested but TorchSharp reports no CUDA device here (this build ships the CPU libtorch)");
            return new Device(device);
        }
        throw new TrainingSpecException("device", $"must be 'cpu', 'cuda' or 'cuda:N', got '{device}'");
    }

    /// <summary>Mean cross-entropy of logits [n, p] against one-hot labels [n, p]: −mean Σ_c y_c log softmax(z)_c.</summary>
    private static Tensor CrossEntropy(Tensor logits, Tensor labels) =>
        logits.log_softmax(1).mul(labels).sum(1).mean().neg();

    /// <summary>(loss, accuracy) of the current parameters on a whole set, in float64.</summary>
    private (double Loss, double Accuracy) Evaluate(Tensor x, Tensor y)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var logits = _model.Forward(x).to_type(ScalarType.Float64);
        var y64 = y.to_type(ScalarType.Float64);
        double loss = CrossEntropy(logits, y64).item<double>();
        double acc = logits.argmax(1).eq(y64.argmax(1)).to_type(ScalarType.Float64).mean().item<double>();
        return (loss, acc);
    }

    /// <summary>Indices of the minibatch at a step: epoch e = ⌊s / batches per epoch⌋ is a permutation from (seed, 1000 + e).</summary>
    private Tensor BatchIndices(long step)
    {
        long perEpoch = _nTrain / _batch;
        long epoch = step / perEpoch, k = step % perEpoch;
        if (epoch != _permEpoch)
        {
            _perm?.Dispose();
            _perm = torch.tensor(new Rng(_c.Seed, 1000 + (ulong)epoch).Permutation(_nTrain), device: _model.Device).DetachFromDisposeScope();
            _permEpoch = epoch;
        }
        return _perm!.narrow(0, k * _batch, _batch);
    }

    /// <summary>Trains from the latest saved state (or step 0) to config.Steps; one row per checkpoint, including those reported before a resume.</summary>
    public IReadOnlyList<GrokkingRow> Run(CancellationToken cancellationToken = default)
    {
        var store = _c.CheckpointDir is { } dir ? new StateStore(dir, Log) : null;
        string fingerprint = _c.Fingerprint();
        var rows = new List<GrokkingRow>();
        long step = 0, resumedFrom = 0;
        long? grok = null;
        bool finished = false;
        if (store?.LoadLatest(fingerprint) is { } saved)
        {
            Restore(saved, out grok, out finished);
            step = resumedFrom = saved.Step;
            rows.AddRange(JsonSerializer.Deserialize<List<GrokkingRow>>(saved.RowsJson, RowJson) ?? []);
            Log?.Invoke($"resumed from step {step} ({store.PathFor(step)})");
        }
        else
        {
            _model.Load(GrokkingModel.Init(_c));   // a second Run starts over, not from where the first ended
            _adam.Reset();
        }

        var checkpoints = new Queue<long>(_c.Checkpoints.Where(s => s >= step && !rows.Any(r => r.Step == s)));
        var clock = Stopwatch.StartNew();
        double lastReport = 0;
        // Evaluates what the step needs: a row at a checkpoint (or a diverged step), val accuracy for steps_to_grok.
        void Report(bool report, bool evalForGrok, string status, double? trainLoss)
        {
            if (!report && !evalForGrok) return;
            var train = report ? Evaluate(_xTrain, _yTrain) : default;
            var val = Evaluate(_xVal, _yVal);
            if (grok is null && val.Accuracy >= _c.GrokAccuracy) grok = step;
            if (!report) return;
            if (checkpoints.Count > 0 && checkpoints.Peek() == step) checkpoints.Dequeue();
            rows.Add(new GrokkingRow(step, trainLoss ?? train.Loss, val.Loss, train.Accuracy, val.Accuracy, grok, status, resumedFrom));
            RowReady?.Invoke(rows[^1]);
        }
        while (!finished)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // Interrupted (its silo is shutting down): save this exact state so the run goes on
                // elsewhere from here, bit-identically, instead of from its last periodic save.
                if (store is not null && step > resumedFrom) Save(store, fingerprint, step, rows, grok, false);
                Log?.Invoke($"interrupted at step {step}{(store is not null ? "; state saved" : "")}");
                cancellationToken.ThrowIfCancellationRequested();
            }
            bool report = checkpoints.Count > 0 && checkpoints.Peek() == step;
            bool evalForGrok = grok is null && _c.EvalEvery > 0 && step % _c.EvalEvery == 0;
            if (step >= _c.Steps)
            {
                Report(report, evalForGrok, "ok", null);
                break;
            }

            double loss;
            using (var scope = torch.NewDisposeScope())
            {
                Tensor x = _xTrain, y = _yTrain;
                if (_batch < _nTrain)
                {
                    var idx = BatchIndices(step);
                    x = _xTrain.index_select(0, idx);
                    y = _yTrain.index_select(0, idx);
                }
                var l = CrossEntropy(_model.Forward(x), y);
                loss = l.to_type(ScalarType.Float64).item<double>();
                // The training loss is checked first, so a diverged step reports one row (not an "ok" one too).
                if (!double.IsFinite(loss) || loss > _c.DivergenceLoss)
                {
                    Report(true, false, "diverged", loss);
                    Log?.Invoke($"diverged at step {step}: training loss {loss:G4}");
                    break;
                }
                Report(report, evalForGrok, "ok", null);
                l.backward();
                var grads = _model.Parameters.Select(p => p.grad ?? throw new InvalidOperationException("no gradient")).ToArray();
                _adam.Step(grads);
                using (torch.no_grad()) foreach (var g in grads) g.zero_();
            }
            step++;
            if ((step & 1023) == 0) TrainingMeter.Add("grokking", 1024);

            if (store is not null && _c.CheckpointEvery > 0 && step % _c.CheckpointEvery == 0 && step < _c.Steps)
                Save(store, fingerprint, step, rows, grok, false);
            if (Progress is not null && clock.Elapsed.TotalSeconds - lastReport > 5)
            {
                lastReport = clock.Elapsed.TotalSeconds;
                Progress(step, loss);
            }
        }
        if (store is not null && !finished) Save(store, fingerprint, step, rows, grok, true);
        // resumed_from_step describes this run as a whole (0 when it never restarted).
        return rows.Select(r => r with { ResumedFromStep = resumedFrom }).ToList();
    }

    private void Save(StateStore store, string fingerprint, long step, List<GrokkingRow> rows, long? grok, bool finished)
    {
        var arrays = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, a) in _model.Export()) arrays["param/" + name] = a;
        var (m, v) = _adam.Moments();
        for (int i = 0; i < _model.Names.Count; i++)
        {
            arrays["adam_m/" + _model.Names[i]] = m[i];
            arrays["adam_v/" + _model.Names[i]] = v[i];
        }
        arrays["adam_t"] = [_adam.StepCount];
        arrays["steps_to_grok"] = [grok ?? -1];
        arrays["finished"] = [finished ? 1 : 0];
        arrays["data_seed"] = [_c.DataSeed];
        store.Save(new SavedState(fingerprint, step, arrays, JsonSerializer.Serialize(rows, RowJson)));
    }

    private void Restore(SavedState s, out long? grok, out bool finished)
    {
        double[] Get(string name) => s.Arrays.TryGetValue(name, out var a) ? a : throw new InvalidOperationException($"saved state lacks '{name}'");
        _model.Load(_model.Names.ToDictionary(n => n, n => Get("param/" + n)));
        _adam.Restore(_model.Names.Select(n => Get("adam_m/" + n)).ToArray(), _model.Names.Select(n => Get("adam_v/" + n)).ToArray(), (long)Get("adam_t")[0]);
        double g = Get("steps_to_grok")[0];
        grok = g < 0 ? null : (long)g;
        finished = Get("finished")[0] != 0;
    }

    public void Dispose()
    {
        _model.Dispose();
        _adam.Dispose();
        foreach (var t in new[] { _xTrain, _yTrain, _xVal, _yVal }) t.Dispose();
        _perm?.Dispose();
    }
}
