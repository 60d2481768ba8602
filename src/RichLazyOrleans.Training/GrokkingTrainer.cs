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
public sealed class GrokkingTrainer : ITrainingEngine<GrokkingRow>, IDisposable
{

    private readonly GrokkingConfig _c;
    private readonly ModularData _data;
    private readonly GrokkingModel _model;
    private readonly AdamW _adam;
    private readonly Tensor _xTrain, _yTrain, _xVal, _yVal;    // one-hot inputs [n, 3, p+1], labels [n, p]
    private readonly int _nTrain, _batch;
    private long _permEpoch = -1;
    private Tensor? _perm;
    private long? _grok;   // steps_to_grok so far

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
        var device = TorchRuntime.Device(config.Device);
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

    /// <summary>
    /// Mean cross-entropy of logits [n, p] against one-hot labels [n, p]: −mean Σ_c y_c log softmax(z)_c.
    /// </summary>
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

    /// <summary>
    /// Indices of the minibatch at a step: epoch e = ⌊s / batches per epoch⌋ is a permutation from (seed, 1000 + e).
    /// </summary>
    private Tensor BatchIndices(long step)
    {
        long perEpoch = _nTrain / _batch;
        long epoch = step / perEpoch, k = step % perEpoch;
        if (epoch != _permEpoch)
        {
            _perm?.Dispose();
            _perm = torch.tensor(new Rng(_c.Seed, 1000 + (ulong)epoch).Permutation(_nTrain), device: _model.Device)
                .DetachFromDisposeScope();
            _permEpoch = epoch;
        }
        return _perm!.narrow(0, k * _batch, _batch);
    }

    /// <summary>
    /// Trains from the latest saved state (or step 0) to config.Steps; one row per checkpoint, including those reported
    /// before a resume (<see cref="TrainingLoop{TRow}"/>).
    /// </summary>
    public IReadOnlyList<GrokkingRow> Run(CancellationToken cancellationToken = default)
    {
        var schedule = new LoopSchedule("grokking", _c.Steps, _c.Checkpoints, _c.CheckpointEvery, _c.CheckpointDir,
            _c.Fingerprint());
        var loop = new TrainingLoop<GrokkingRow>(schedule) { Log = Log, RowReady = RowReady, Progress = Progress };
        return loop.Run(this, cancellationToken);
    }

    void ITrainingEngine<GrokkingRow>.Start(SavedState? saved, bool finished)
    {
        _grok = null;
        if (saved is null)
        {
            _model.Load(GrokkingModel.Init(_c));   // a second Run starts over, not from where the first ended
            _adam.Reset();
            return;
        }
        double[] Get(string name) => saved.Arrays.TryGetValue(name, out var a) ? a
            : throw new InvalidOperationException($"saved state lacks '{name}'");
        _model.Load(_model.Names.ToDictionary(n => n, n => Get("param/" + n)));
        _adam.Restore(_model.Names.Select(n => Get("adam_m/" + n)).ToArray(),
            _model.Names.Select(n => Get("adam_v/" + n)).ToArray(), (long)Get("adam_t")[0]);
        double g = Get("steps_to_grok")[0];
        _grok = g < 0 ? null : (long)g;
    }

    IReadOnlyDictionary<string, double[]> ITrainingEngine<GrokkingRow>.Export()
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
        arrays["steps_to_grok"] = [_grok ?? -1];
        arrays["data_seed"] = [_c.DataSeed];
        return arrays;
    }

    StepOutcome<GrokkingRow> ITrainingEngine<GrokkingRow>.Step(long step, bool report, bool last, long resumedFrom)
    {
        bool evalForGrok = _grok is null && _c.EvalEvery > 0 && step % _c.EvalEvery == 0;
        if (last) return new(double.NaN, Report(step, report, evalForGrok, "ok", null, resumedFrom), StepEnd.Finished);
        using var scope = torch.NewDisposeScope();
        var (x, y) = MiniBatch.Take(_xTrain, _yTrain, _batch < _nTrain ? BatchIndices(step) : null);
        var l = CrossEntropy(_model.Forward(x), y);
        double loss = l.to_type(ScalarType.Float64).item<double>();
        // The training loss is checked first, so a diverged step reports one row (not an "ok" one too).
        if (!double.IsFinite(loss) || loss > _c.DivergenceLoss)
            return new(loss, Report(step, true, false, "diverged", loss, resumedFrom), StepEnd.Diverged);
        var row = Report(step, report, evalForGrok, "ok", null, resumedFrom);
        l.backward();
        var grads = _model.Parameters
            .Select(p => p.grad ?? throw new InvalidOperationException("no gradient")).ToArray();
        _adam.Step(grads);
        using (torch.no_grad()) foreach (var g in grads) g.zero_();
        return new(loss, row);
    }

    /// <summary>
    /// Evaluates what the step needs: a row at a checkpoint (or a diverged step), val accuracy for steps_to_grok.
    /// </summary>
    private GrokkingRow? Report(long step, bool report, bool evalForGrok, string status, double? trainLoss,
        long resumedFrom)
    {
        if (!report && !evalForGrok) return null;
        var train = report ? Evaluate(_xTrain, _yTrain) : default;
        var val = Evaluate(_xVal, _yVal);
        if (_grok is null && val.Accuracy >= _c.GrokAccuracy) _grok = step;
        if (!report) return null;
        return new GrokkingRow(step, trainLoss ?? train.Loss, val.Loss, train.Accuracy, val.Accuracy, _grok, status,
            resumedFrom);
    }

    public void Dispose()
    {
        _model.Dispose();
        _adam.Dispose();
        foreach (var t in new[] { _xTrain, _yTrain, _xVal, _yVal }) t.Dispose();
        _perm?.Dispose();
    }
}
