namespace RichLazyOrleans.Theory;

/// <summary>
/// Numerical gradient flow of the theory models, integrated directly in the weights with
/// <see cref="DormandPrince45"/>. It shares nothing with the exact solutions (no eigenvectors, no
/// rescaling), which is why it is their independent check, and it handles any init (the
/// `solver: numeric` path for inits that are not λ-balanced).
/// </summary>
public static class GradientFlow
{
    /// <summary>ȧ = −η_a (a‖w‖² − wᵀβ*), ẇ = −η_w a (a w − β*); state y = [a, w₁…w_d].</summary>
    public static OdeFunction SingleNeuron(double[] betaStar, double etaA, double etaW)
    {
        var b = (double[])betaStar.Clone();
        return (_, y, dy) =>
        {
            double a = y[0];
            var w = y[1..];
            double ww = 0, wb = 0;
            for (int i = 0; i < w.Length; i++) { ww += w[i] * w[i]; wb += w[i] * b[i]; }
            dy[0] = -etaA * (a * ww - wb);
            for (int i = 0; i < w.Length; i++) dy[1 + i] = -etaW * a * (a * w[i] - b[i]);
        };
    }

    /// <summary>
    /// Ẇ₁ = −η₁ W₂ᵀ(W₂W₁ − Σ), Ẇ₂ = −η₂ (W₂W₁ − Σ)W₁ᵀ; state y = [W₁ (h×d, row-major), W₂ (c×h)].
    /// </summary>
    public static OdeFunction TwoLayerLinear(Matrix sigmaYx, int h, double eta1, double eta2)
    {
        int c = sigmaYx.Rows, d = sigmaYx.Cols;
        var s = (double[])sigmaYx.Data.Clone();
        var residual = new double[c * d];
        return (_, y, dy) =>
        {
            var w1 = y[..(h * d)];
            var w2 = y[(h * d)..];
            // R = W₂W₁ − Σ
            for (int k = 0; k < c; k++)
                for (int i = 0; i < d; i++)
                {
                    double acc = -s[k * d + i];
                    for (int j = 0; j < h; j++) acc += w2[k * h + j] * w1[j * d + i];
                    residual[k * d + i] = acc;
                }
            for (int j = 0; j < h; j++)
                for (int i = 0; i < d; i++)
                {
                    double acc = 0;
                    for (int k = 0; k < c; k++) acc += w2[k * h + j] * residual[k * d + i];
                    dy[j * d + i] = -eta1 * acc;
                }
            for (int k = 0; k < c; k++)
                for (int j = 0; j < h; j++)
                {
                    double acc = 0;
                    for (int i = 0; i < d; i++) acc += residual[k * d + i] * w1[j * d + i];
                    dy[h * d + k * h + j] = -eta2 * acc;
                }
        };
    }
}

/// <summary>Numerical gradient flow of the single neuron, reported like the exact solution.</summary>
public sealed class SingleNeuronNumeric(double[] betaStar, double a0, double[] w0, double etaA = 1.0, double etaW = 1.0)
{
    public DormandPrince45 Integrator { get; init; } = new();
    public IntegrationStats? Stats { get; private set; }

    public SingleNeuronState[] Solve(IReadOnlyList<double> times)
    {
        int d = betaStar.Length;
        var y0 = new double[d + 1];
        y0[0] = a0;
        Array.Copy(w0, 0, y0, 1, d);
        var (states, stats) = Integrator.Solve(GradientFlow.SingleNeuron(betaStar, etaA, etaW), 0, y0, times);
        Stats = stats;
        var p0 = w0.Select(v => Math.Sqrt(etaA) * v).ToArray();
        return states.Select((y, idx) =>
        {
            double a = y[0];
            var w = y[1..];
            var beta = w.Select(v => a * v).ToArray();
            double loss = 0;
            for (int i = 0; i < d; i++) loss += 0.5 * (beta[i] - betaStar[i]) * (beta[i] - betaStar[i]);
            double delta = etaW * a * a - etaA * SingleNeuronExact.Dot(w, w);
            double kd = KernelDistance.SingleNeuron(etaW * a0 * a0, p0, etaW * a * a,
                w.Select(v => Math.Sqrt(etaA) * v).ToArray());
            return new SingleNeuronState(times[idx], a, w, beta, delta, kd, loss);
        }).ToArray();
    }
}

/// <summary>Numerical gradient flow of a two-layer linear network from any init.</summary>
public sealed class TwoLayerLinearNumeric
{
    private readonly Matrix _sigma, _w1, _w2;
    private readonly double _eta1, _eta2;

    public DormandPrince45 Integrator { get; init; } = new();
    public IntegrationStats? Stats { get; private set; }

    public TwoLayerLinearNumeric(Matrix sigmaYx, Matrix w1, Matrix w2, double eta1 = 1.0, double eta2 = 1.0)
    {
        if (w1.Cols != sigmaYx.Cols)
            throw new ArgumentException($"w1 must have d = {sigmaYx.Cols} columns, got {w1.Cols}");
        if (w2.Rows != sigmaYx.Rows || w2.Cols != w1.Rows)
            throw new ArgumentException($"w2 must be c x h = {sigmaYx.Rows} x {w1.Rows}, got {w2.Rows} x {w2.Cols}");
        if (!(eta1 > 0) || !(eta2 > 0)) throw new ArgumentException("learning rates must be > 0");
        (_sigma, _w1, _w2, _eta1, _eta2) = (sigmaYx.Clone(), w1.Clone(), w2.Clone(), eta1, eta2);
    }

    public TwoLayerLinearState[] Solve(IReadOnlyList<double> times)
    {
        int h = _w1.Rows, d = _w1.Cols, c = _w2.Rows;
        var y0 = _w1.Data.Concat(_w2.Data).ToArray();
        var (states, stats) = Integrator.Solve(GradientFlow.TwoLayerLinear(_sigma, h, _eta1, _eta2), 0, y0, times);
        Stats = stats;
        var kx0 = _eta1 * _w2.TimesTranspose();
        var ky0 = _eta2 * _w1.TransposeTimes();
        return states.Select((y, idx) =>
        {
            var w1 = new Matrix(h, d, y[..(h * d)]);
            var w2 = new Matrix(c, h, y[(h * d)..]);
            var beta = w2 * w1;
            var w1tw1 = w1.TransposeTimes();
            var w2w2t = w2.TimesTranspose();
            var factor = new Matrix(d + c, h);
            factor.SetBlock(0, 0, w1.Transpose());
            factor.SetBlock(d, 0, w2);
            double kd = KernelDistance.TwoLayer(kx0, ky0, _eta1 * w2w2t, _eta2 * w1tw1);
            double loss = 0.5 * Math.Pow((beta - _sigma).FrobeniusNorm(), 2);
            return new TwoLayerLinearState(times[idx], beta, w1tw1, w2w2t, factor, kd, loss);
        }).ToArray();
    }
}
