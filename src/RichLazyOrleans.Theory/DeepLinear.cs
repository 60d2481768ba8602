namespace RichLazyOrleans.Theory;

/// <summary>
/// One time point of a deep linear network's gradient flow: β = W_L⋯W_1, the loss, the kernel distance of the NTK over
/// all layers, the conservation drift max_l ‖C_l(t) − C_l(0)‖_F with C_l = η_l W_{l+1}ᵀW_{l+1} − η_{l+1} W_l W_lᵀ,
/// and the weights themselves (W_1 first).
/// </summary>
public sealed record DeepLinearState(
    double T, Matrix Beta, double Loss, double KernelDistance, double ConservationDrift, Matrix[] Weights);

/// <summary>
/// The data a deep linear network is fitted to. The flow needs only the second moments, ∂L/∂β = βΣ_xx − Σ_yx.
/// Whitened inputs (`sigma_yx` alone) have Σ_xx = I and the loss ½‖β − Σ_yx‖². Data X (n×d), Y (n×c) have
/// Σ_xx = XᵀX/n, Σ_yx = YᵀX/n and the loss (1/2n)‖Xβᵀ − Y‖², computed from the samples (no cancellation near 0).
/// </summary>
public sealed class LinearData
{
    private readonly Matrix? _x, _y;

    public Matrix SigmaXx { get; }
    public Matrix SigmaYx { get; }
    /// <summary>The samples (null for whitened inputs given by Σ_yx alone).</summary>
    public Matrix? X => _x;
    public Matrix? Y => _y;
    public int D => SigmaYx.Cols;
    public int C => SigmaYx.Rows;

    private LinearData(Matrix sigmaXx, Matrix sigmaYx, Matrix? x, Matrix? y) =>
        (SigmaXx, SigmaYx, _x, _y) = (sigmaXx, sigmaYx, x, y);

    public static LinearData Whitened(Matrix sigmaYx) =>
        new(Matrix.Identity(sigmaYx.Cols), sigmaYx.Clone(), null, null);

    public static LinearData FromSamples(Matrix x, Matrix y)
    {
        if (x.Rows != y.Rows) throw new ArgumentException($"x has {x.Rows} rows but y has {y.Rows}");
        double n = x.Rows;
        return new((1 / n) * x.TransposeTimes(), (1 / n) * (y.Transpose() * x), x.Clone(), y.Clone());
    }

    /// <summary>Whether the inputs are whitened, ‖Σ_xx − I‖_max ≤ <paramref name="tolerance"/> (the exact solutions'
    /// condition).</summary>
    public bool IsWhitened(double tolerance = 1e-9) =>
        (SigmaXx - Matrix.Identity(D)).Data.All(v => Math.Abs(v) <= tolerance);

    public double Loss(Matrix beta) => _x is null
        ? 0.5 * Math.Pow((beta - SigmaYx).FrobeniusNorm(), 2)
        : 0.5 / _x.Rows * Math.Pow((_x * beta.Transpose() - _y!).FrobeniusNorm(), 2);
}

/// <summary>
/// Numerical gradient flow of a deep linear network f(x) = W_L⋯W_1 x, Ẇ_l = −η_l ∂L/∂W_l, integrated directly in the
/// weights with <see cref="DormandPrince45"/>. With A_l = W_L⋯W_{l+1} and B_l = W_{l−1}⋯W_1 (identities at the
/// ends), ∂L/∂W_l = A_lᵀ R B_lᵀ, R = βΣ_xx − Σ_yx.
/// </summary>
/// <remarks>
/// Kernel distance: the NTK over all layers on the inputs is K = Σ_l η_l (X B_lᵀB_l Xᵀ) ⊗ (A_lA_lᵀ), so
/// ⟨K, K′⟩_F = Σ_{l,m} η_l η_m tr(G_l S G′_m S)·tr(Q_l Q′_m) with G_l = B_lᵀB_l, Q_l = A_lA_lᵀ and S = Σ_xx (the 1/n
/// scale cancels in the cosine); the (nc)² matrix is never formed. For L = 2 and S = I this is the Kronecker sum of
/// <see cref="KernelDistance.TwoLayer(Matrix, Matrix, Matrix, Matrix, double, double)"/>.
/// </remarks>
public sealed class DeepLinearNumeric
{
    private readonly LinearData _data;
    private readonly Matrix[] _w0;
    private readonly double[] _eta;

    /// <summary>Consecutive steps at the integrator's noise floor that count as converged (see
    /// <see cref="DormandPrince45.NoiseFloorSteps"/>): without it a converged deep network never passes the ratio
    /// test and t = 1e9 hits the step limit.</summary>
    public const int NoiseFloorSteps = 100;

    public DormandPrince45 Integrator { get; init; } = new() { NoiseFloorSteps = NoiseFloorSteps };
    public IntegrationStats? Stats { get; private set; }
    public int Layers => _w0.Length;

    public DeepLinearNumeric(LinearData data, IReadOnlyList<Matrix> weights, IReadOnlyList<double> etas)
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Require(weights.Count >= 2, $"a deep linear network needs at least 2 layers, got {weights.Count}");
        Require(etas.Count == weights.Count, $"one rate per layer: {weights.Count} layers, {etas.Count} rates");
        Require(etas.All(e => e > 0 && double.IsFinite(e)), "learning rates must be finite and > 0");
        Require(weights[0].Cols == data.D, $"layer 1 must have d = {data.D} columns, got {weights[0].Cols}");
        for (int l = 1; l < weights.Count; l++)
            Require(weights[l].Cols == weights[l - 1].Rows,
                $"layer {l + 1} must have {weights[l - 1].Rows} columns (layer {l}'s rows), got {weights[l].Cols}");
        Require(weights[^1].Rows == data.C, $"the last layer must have c = {data.C} rows, got {weights[^1].Rows}");
        (_data, _w0, _eta) = (data, weights.Select(w => w.Clone()).ToArray(), etas.ToArray());
    }

    /// <summary>The flow's right-hand side on the state y = [W_1, …, W_L] (each row-major).</summary>
    public OdeFunction Flow() => (_, y, dy) =>
    {
        var w = Unpack(y);
        var (a, b) = Partials(w);
        var r = a[0] * w[0] * _data.SigmaXx - _data.SigmaYx;   // A_1 W_1 = β
        int offset = 0;
        for (int l = 0; l < w.Length; l++)
        {
            var g = a[l].Transpose() * r * b[l].Transpose();
            for (int i = 0; i < g.Data.Length; i++) dy[offset + i] = -_eta[l] * g.Data[i];
            offset += g.Data.Length;
        }
    };

    public DeepLinearState[] Solve(IReadOnlyList<double> times)
    {
        var y0 = _w0.SelectMany(w => w.Data).ToArray();
        var (states, stats) = Integrator.Solve(Flow(), 0, y0, times);
        Stats = stats;
        var kernel0 = Kernel(_w0);
        var c0 = Conserved(_w0);
        return states.Select((y, i) =>
        {
            var w = Unpack(y);
            var beta = Product(w);
            var c = Conserved(w);
            double drift = c.Select((ci, l) => (ci - c0[l]).FrobeniusNorm()).DefaultIfEmpty(0).Max();
            return new DeepLinearState(times[i], beta, _data.Loss(beta), Distance(kernel0, Kernel(w)), drift, w);
        }).ToArray();
    }

    /// <summary>C_l = η_l W_{l+1}ᵀW_{l+1} − η_{l+1} W_l W_lᵀ for l = 1 … L − 1, conserved by the flow.</summary>
    public Matrix[] Conserved(Matrix[] w) =>
        Enumerable.Range(0, w.Length - 1)
            .Select(l => _eta[l] * w[l + 1].TransposeTimes() - _eta[l + 1] * w[l].TimesTranspose()).ToArray();

    public static Matrix Product(IReadOnlyList<Matrix> w)
    {
        var p = w[0];
        for (int l = 1; l < w.Count; l++) p = w[l] * p;
        return p;
    }

    private Matrix[] Unpack(ReadOnlySpan<double> y)
    {
        var w = new Matrix[_w0.Length];
        int offset = 0;
        for (int l = 0; l < w.Length; l++)
        {
            int size = _w0[l].Rows * _w0[l].Cols;
            w[l] = new Matrix(_w0[l].Rows, _w0[l].Cols, y.Slice(offset, size).ToArray());
            offset += size;
        }
        return w;
    }

    /// <summary>A_l = W_L⋯W_{l+1} (c × rows of W_l) and B_l = W_{l−1}⋯W_1 (columns of W_l × d).</summary>
    private (Matrix[] A, Matrix[] B) Partials(Matrix[] w)
    {
        int layers = w.Length;
        var a = new Matrix[layers];
        var b = new Matrix[layers];
        b[0] = Matrix.Identity(_data.D);
        for (int l = 1; l < layers; l++) b[l] = w[l - 1] * b[l - 1];
        a[layers - 1] = Matrix.Identity(_data.C);
        for (int l = layers - 2; l >= 0; l--) a[l] = a[l + 1] * w[l + 1];
        return (a, b);
    }

    /// <summary>The NTK's factors per layer: (η_l, G_l S, Q_l).</summary>
    private (double Eta, Matrix GS, Matrix Q)[] Kernel(Matrix[] w)
    {
        var (a, b) = Partials(w);
        return Enumerable.Range(0, w.Length)
            .Select(l => (_eta[l], b[l].TransposeTimes() * _data.SigmaXx, a[l].TimesTranspose())).ToArray();
    }

    private static double Inner((double Eta, Matrix GS, Matrix Q)[] k, (double Eta, Matrix GS, Matrix Q)[] k2)
    {
        double sum = 0;
        foreach (var (e1, gs1, q1) in k)
            foreach (var (e2, gs2, q2) in k2)
                sum += e1 * e2 * TraceOfProduct(gs1, gs2) * TraceOfProduct(q1, q2);
        return sum;
    }

    /// <summary>tr(PQ) without forming PQ.</summary>
    private static double TraceOfProduct(Matrix p, Matrix q)
    {
        int n = p.Rows;
        double sum = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) sum += p.Data[i * n + j] * q.Data[j * n + i];
        return sum;
    }

    /// <summary>1 − ⟨K₀, K⟩/(‖K₀‖‖K‖), clamped to [0, 1]; a zero kernel stays zero under the flow.</summary>
    private static double Distance((double, Matrix, Matrix)[] k0, (double, Matrix, Matrix)[] k)
    {
        double n0 = Inner(k0, k0), n = Inner(k, k);
        if (n0 == 0 || n == 0) return n0 == n ? 0 : 1;
        return Math.Clamp(1 - Inner(k0, k) / Math.Sqrt(n0 * n), 0, 1);
    }
}
