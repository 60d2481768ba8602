using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter) over a fixed list of parameter tensors, written out so its whole
/// state (two moment buffers per parameter and the step count) is plain tensors that a checkpoint
/// saves and restores exactly. The update is torch.optim.AdamW's, operation for operation:
/// <code>
/// θ ← θ·(1 − lr·wd)                        (decoupled weight decay)
/// m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
/// θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// </code>
/// </summary>
public sealed class AdamW : IDisposable
{
    private readonly Tensor[] _params, _m, _v;
    public double Lr { get; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public double WeightDecay { get; }
    /// <summary>Updates done so far (t in the bias corrections).</summary>
    public long StepCount { get; private set; }

    public AdamW(IReadOnlyList<Tensor> parameters, double lr, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01)
    {
        _params = parameters.ToArray();
        _m = _params.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
        _v = _params.Select(p => torch.zeros_like(p).DetachFromDisposeScope()).ToArray();
        (Lr, Beta1, Beta2, Eps, WeightDecay) = (lr, beta1, beta2, eps, weightDecay);
    }

    /// <summary>
    /// One update of every parameter with the given gradients (same order and shapes as the parameters).
    /// </summary>
    public void Step(IReadOnlyList<Tensor> grads)
    {
        if (grads.Count != _params.Length)
            throw new ArgumentException($"{grads.Count} gradients for {_params.Length} parameters");
        StepCount++;
        double bc1 = 1 - Math.Pow(Beta1, StepCount), bc2 = 1 - Math.Pow(Beta2, StepCount);
        double stepSize = Lr / bc1, sqrtBc2 = Math.Sqrt(bc2);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < _params.Length; i++)
        {
            var p = _params[i];
            var g = grads[i];
            if (WeightDecay != 0) p.mul_(1 - Lr * WeightDecay);
            _m[i].mul_(Beta1).add_(g, 1 - Beta1);
            _v[i].mul_(Beta2).addcmul_(g, g, 1 - Beta2);
            var denom = _v[i].sqrt().div_(sqrtBc2).add_(Eps);
            p.addcdiv_(_m[i], denom, -stepSize);
        }
    }

    /// <summary>The moment buffers as float64 arrays (exact for float32 too), in parameter order.</summary>
    public (double[][] M, double[][] V) Moments()
    {
        using var scope = torch.NewDisposeScope();
        static double[] Flat(Tensor t) => t.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
        return (_m.Select(Flat).ToArray(), _v.Select(Flat).ToArray());
    }

    /// <summary>Restores moments and step count saved by <see cref="Moments"/>.</summary>
    public void Restore(double[][] m, double[][] v, long stepCount)
    {
        if (m.Length != _params.Length || v.Length != _params.Length)
            throw new ArgumentException("moment count does not match the parameters");
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        for (int i = 0; i < _params.Length; i++)
        {
            if (m[i].Length != _m[i].numel() || v[i].Length != _v[i].numel())
                throw new ArgumentException($"moment {i} has the wrong size");
            _m[i].copy_(torch.tensor(m[i], _m[i].shape, ScalarType.Float64).to_type(_m[i].dtype));
            _v[i].copy_(torch.tensor(v[i], _v[i].shape, ScalarType.Float64).to_type(_v[i].dtype));
        }
        StepCount = stepCount;
    }

    /// <summary>Back to the initial state (zero moments, t = 0).</summary>
    public void Reset()
    {
        using var noGrad = torch.no_grad();
        foreach (var t in _m.Concat(_v)) t.zero_();
        StepCount = 0;
    }

    public void Dispose()
    {
        foreach (var t in _m.Concat(_v)) t.Dispose();
    }
}
