namespace RichLazyOrleans.Theory;

/// <summary>State of a two-layer linear network f(x) = W₂W₁x at time t.</summary>
/// <param name="T">time</param>
/// <param name="Beta">β = W₂W₁ (c×d)</param>
/// <param name="W1tW1">W₁ᵀW₁ (d×d)</param>
/// <param name="W2W2t">W₂W₂ᵀ (c×c)</param>
/// <param name="Factor">Y ((d+c)×h) with YYᵀ = [W₁ᵀ; W₂][W₁ᵀ; W₂]ᵀ: the weights up to an h×h rotation</param>
/// <param name="KernelDistance">NTK kernel distance from t = 0</param>
/// <param name="Loss">½‖β − Σ_yx‖²_F</param>
public sealed record TwoLayerLinearState(double T, Matrix Beta, Matrix W1tW1, Matrix W2W2t, Matrix Factor,
    double KernelDistance, double Loss);

/// <summary>How far an init is from λ-balanced: Δ = η₁W₂ᵀW₂ − η₂W₁W₁ᵀ versus λI.</summary>
/// <param name="Lambda">λ = tr(Δ)/h</param>
/// <param name="RelativeImbalance">‖Δ − λI‖_F / (η₁‖W₂ᵀW₂‖_F + η₂‖W₁W₁ᵀ‖_F) (0 for a zero init)</param>
public readonly record struct Balance(double Lambda, double RelativeImbalance)
{
    /// <summary>The tolerance of the `solver: auto` contract.</summary>
    public const double DefaultTolerance = 1e-9;

    public static Balance Of(Matrix w1, Matrix w2, double eta1, double eta2)
    {
        var g2 = w2.TransposeTimes();   // W₂ᵀW₂, h×h
        var g1 = w1.TimesTranspose();   // W₁W₁ᵀ, h×h
        var delta = eta1 * g2 - eta2 * g1;
        int h = delta.Rows;
        double lambda = h == 0 ? 0 : delta.Trace() / h;
        var off = delta - lambda * Matrix.Identity(h);
        double scale = eta1 * g2.FrobeniusNorm() + eta2 * g1.FrobeniusNorm();
        return new Balance(lambda, scale == 0 ? 0 : off.FrobeniusNorm() / scale);
    }
}

/// <summary>The init is not λ-balanced, so the exact solution does not apply.</summary>
public sealed class NotBalancedException(Balance balance, double tolerance)
    : Exception("init is not lambda-balanced: ||Delta - lambda*I||_F relative to its scale is " +
        $"{balance.RelativeImbalance:G3} > {tolerance:G3} " +
        $"(Delta = eta1*W2^T W2 - eta2*W1 W1^T, lambda = {balance.Lambda:G6})")
{
    public Balance Balance { get; } = balance;
}

/// <summary>
/// Exact gradient flow of a two-layer linear network from a λ-balanced init (SCIENCE.md §2):
/// L = ½‖W₂W₁ − Σ_yx‖²_F on whitened inputs, rates η₁ (W₁) and η₂ (W₂), any d, c, h.
/// </summary>
/// <remarks>
/// With rates scaled out (W̃ᵢ = Wᵢ/√ηᵢ, S̃ = Σ_yx/√(η₁η₂), λ̃ = λ/(η₁η₂), T = η₁η₂t) the factor
/// Q = [W̃₁ᵀ; W̃₂] obeys Q̇ = AQ − ½QQᵀQ with A = [[−λ̃/2·I_d, S̃ᵀ],[S̃, λ̃/2·I_c]], and P = QQᵀ is
/// P(T) = e^{AT}Q₀(I + Q₀ᵀG(T)Q₀)⁻¹Q₀ᵀe^{AT}. That form is useless numerically past T ≈ 10.
/// Here, in the eigenbasis A = VΛVᵀ and with C = G^{1/2}, F = e^{ΛT}C⁻¹ (bounded), one has
/// P = V F Π F Vᵀ where Π is the top-left block of the orthogonal projector onto the column space
/// of W = [C·VᵀQ₀; I_h]. W's rows differ in scale by factors up to e^{μT}; its column space is
/// found without overflow by a row-pivoted Householder elimination carried out in log scale
/// (rows taken largest-first, as in Powell-Reid / Cox-Higham row pivoting), which leaves a
/// matrix with entries ≤ 1 and the same column space. So every t ≥ 0, the converged limit
/// included, costs O((d+c)²h) and is accurate to a few ulps of the weights.
/// </remarks>
public sealed class TwoLayerLinearExact
{
    private readonly int _d, _c, _h;
    private readonly double _eta1, _eta2;
    private readonly Matrix _sigma;
    private readonly Matrix _q0;       // [W₁ᵀ; W₂] in real (not rate-scaled) variables, for t = 0
    private readonly double[] _mu;     // eigenvalues of A (descending)
    private readonly double[] _logTwoAbsMu;
    private readonly Matrix _v;        // eigenvectors of A (columns)
    private readonly Matrix _q0Eigen;  // VᵀQ̃₀: rate-scaled init in A's eigenbasis
    private readonly Matrix _w2w2t0, _w1tw10;  // W₂W₂ᵀ and W₁ᵀW₁ at t = 0 (NTK blocks)

    public Balance Balance { get; }
    /// <summary>λ of Δ = λI (η₁W₂ᵀW₂ − η₂W₁W₁ᵀ).</summary>
    public double Lambda => Balance.Lambda;

    /// <param name="sigmaYx">Σ_yx (c×d)</param>
    /// <param name="w1">W₁ (h×d)</param>
    /// <param name="w2">W₂ (c×h)</param>
    /// <param name="eta1">learning rate of W₁</param>
    /// <param name="eta2">learning rate of W₂</param>
    /// <param name="balanceTolerance">largest accepted relative imbalance</param>
    public TwoLayerLinearExact(Matrix sigmaYx, Matrix w1, Matrix w2, double eta1 = 1.0, double eta2 = 1.0,
        double balanceTolerance = Balance.DefaultTolerance)
    {
        _c = sigmaYx.Rows;
        _d = sigmaYx.Cols;
        _h = w1.Rows;
        if (w1.Cols != _d) throw new ArgumentException($"w1 must be h x d = {_h} x {_d}, got {w1.Rows} x {w1.Cols}");
        if (w2.Rows != _c || w2.Cols != _h)
            throw new ArgumentException($"w2 must be c x h = {_c} x {_h}, got {w2.Rows} x {w2.Cols}");
        if (!(eta1 > 0) || !double.IsFinite(eta1))
            throw new ArgumentOutOfRangeException(nameof(eta1), eta1, "eta1 must be finite and > 0");
        if (!(eta2 > 0) || !double.IsFinite(eta2))
            throw new ArgumentOutOfRangeException(nameof(eta2), eta2, "eta2 must be finite and > 0");
        if (!sigmaYx.AllFinite() || !w1.AllFinite() || !w2.AllFinite()) throw new ArgumentException("non-finite input");
        _eta1 = eta1;
        _eta2 = eta2;
        _sigma = sigmaYx.Clone();
        Balance = Balance.Of(w1, w2, eta1, eta2);
        if (Balance.RelativeImbalance > balanceTolerance) throw new NotBalancedException(Balance, balanceTolerance);

        int n = _d + _c;
        _q0 = new Matrix(n, _h);
        _q0.SetBlock(0, 0, w1.Transpose());
        _q0.SetBlock(_d, 0, w2);

        double sab = Math.Sqrt(eta1 * eta2);
        double lambdaT = Balance.Lambda / (eta1 * eta2);
        var a = new Matrix(n, n);
        for (int i = 0; i < _d; i++) a[i, i] = -0.5 * lambdaT;
        for (int k = 0; k < _c; k++) a[_d + k, _d + k] = 0.5 * lambdaT;
        for (int k = 0; k < _c; k++)
            for (int i = 0; i < _d; i++)
            {
                double s = sigmaYx[k, i] / sab;
                a[_d + k, i] = s;
                a[i, _d + k] = s;
            }
        var eig = new SymmetricEigen(a);
        _mu = SnapClusters(eig.Values);
        _logTwoAbsMu = _mu.Select(m => Math.Log(2 * Math.Abs(m))).ToArray();
        _v = eig.Vectors;

        var q0Scaled = new Matrix(n, _h);
        double s1 = 1 / Math.Sqrt(eta1), s2 = 1 / Math.Sqrt(eta2);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < _h; j++)
                q0Scaled[i, j] = _q0[i, j] * (i < _d ? s1 : s2);
        _q0Eigen = _v.Transpose() * q0Scaled;

        (_w2w2t0, _w1tw10) = (w2.TimesTranspose(), w1.TransposeTimes());
    }

    /// <summary>The state at time t ≥ 0 (finite).</summary>
    public TwoLayerLinearState At(double t)
    {
        if (!(t >= 0) || !double.IsFinite(t))
            throw new ArgumentOutOfRangeException(nameof(t), t, "time must be finite and >= 0");
        double bigT = _eta1 * _eta2 * t;
        Matrix y = bigT == 0 ? _q0.Clone() : FactorAt(bigT);

        // P = YYᵀ holds everything: W₁ᵀW₁ (top-left), W₂W₂ᵀ (bottom-right), β = W₂W₁ (bottom-left).
        int n = _d + _c, h = _h;
        var yd = y.Data;
        var beta = new Matrix(_c, _d);
        var w1tw1 = new Matrix(_d, _d);
        var w2w2t = new Matrix(_c, _c);
        for (int i = 0; i < n; i++)
            for (int l = 0; l <= i; l++)
            {
                double s = 0;
                for (int j = 0; j < h; j++) s += yd[i * h + j] * yd[l * h + j];
                if (i < _d) { w1tw1.Data[i * _d + l] = s; w1tw1.Data[l * _d + i] = s; }
                else if (l >= _d)
                {
                    w2w2t.Data[(i - _d) * _c + (l - _d)] = s; w2w2t.Data[(l - _d) * _c + (i - _d)] = s;
                }
                else beta.Data[(i - _d) * _d + l] = s;
            }
        double kd = KernelDistance.TwoLayer(_w2w2t0, _w1tw10, w2w2t, w1tw1, _eta1, _eta2);
        double loss = 0;
        for (int k = 0; k < beta.Data.Length; k++) { double r = beta.Data[k] - _sigma.Data[k]; loss += r * r; }
        return new TwoLayerLinearState(t, beta, w1tw1, w2w2t, y, kd, 0.5 * loss);
    }

    /// <summary>Y = [W₁ᵀ; W₂]·R (R an h×h rotation) at rate-scaled time T &gt; 0, in real variables.</summary>
    internal Matrix FactorAt(double bigT)
    {
        int n = _d + _c, h = _h;
        if (h == 0) return new Matrix(n, 0);
        // Rows of W = [C·VᵀQ̃₀; I_h] as (log scale, content).
        var logScale = new double[n + h];
        var f = new double[n];
        var content = new Matrix(n + h, h);
        for (int i = 0; i < n; i++)
        {
            RiccatiModes.Evaluate(_mu[i], _logTwoAbsMu[i], bigT, out double logG, out double f2);
            logScale[i] = 0.5 * logG;
            f[i] = f2 > 0 ? Math.Sqrt(f2) : 0.0;
        }
        Array.Copy(_q0Eigen.Data, content.Data, n * h);
        for (int j = 0; j < h; j++) content[n + j, j] = 1.0;

        var scaled = GradedColumnSpace(logScale, content);   // overwrites content
        var basis = OrthonormalColumns(scaled);

        // Ỹ = V·diag(f)·Π_top, then undo the rate scaling row-wise.
        var fu = new Matrix(n, h, basis.Data.AsSpan(0, n * h).ToArray());
        for (int i = 0; i < n; i++)
            for (int j = 0; j < h; j++) fu.Data[i * h + j] *= f[i];
        var y = _v * fu;
        double s1 = Math.Sqrt(_eta1), s2 = Math.Sqrt(_eta2);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < h; j++)
                y[i, j] *= i < _d ? s1 : s2;
        return y;
    }

    /// <summary>
    /// Given a matrix whose row i is e^{logScale[i]}·content[i] (entries may be far beyond the double
    /// range), returns a matrix with the same column space and entries of magnitude ≤ 1.
    /// Row-pivoted Householder elimination: at step j the row with the largest scaled residual in
    /// columns j.. becomes the pivot, a reflector (a right-multiplication, so the column space is
    /// unchanged) zeroes its residual beyond column j, and column j is divided by the pivot's scaled
    /// value, all magnitudes compared and combined in logs. <paramref name="content"/> is overwritten.
    /// </summary>
    internal static Matrix GradedColumnSpace(double[] logScale, Matrix content)
    {
        int rows = content.Rows, h = content.Cols;
        var r = content;
        var rd = r.Data;
        var result = new Matrix(rows, h);
        var isPivot = new bool[rows];
        var v = new double[h];
        // Scales relative to the largest, as plain numbers: exact comparisons and products without
        // logs for every row that does not underflow (the common case); the log path handles the rest.
        double sMax = logScale.Max();
        var rel = new double[rows];
        for (int i = 0; i < rows; i++) rel[i] = Math.Exp(logScale[i] - sMax);
        const double Normal = 1e-290;   // below this, rel[] has lost precision (or is 0): use logs

        for (int j = 0; j < h; j++)
        {
            int p = -1;
            double bestFast = 0, bestLog = double.NegativeInfinity, pivotNorm = 0;
            bool fast = false;
            for (int i = 0; i < rows; i++)
            {
                if (isPivot[i]) continue;
                double ss = 0;
                for (int k = j; k < h; k++) { double x = rd[i * h + k]; ss += x * x; }
                double res = ss > 0 && double.IsFinite(ss) && ss > 1e-280 ? Math.Sqrt(ss)
                    : Matrix.Norm2(r.Data.AsSpan(i * h + j, h - j));
                if (res == 0) continue;
                if (rel[i] >= Normal)
                {
                    double score = rel[i] * res;
                    if (!fast || score > bestFast) { fast = true; bestFast = score; p = i; pivotNorm = res; }
                }
                else if (!fast)
                {
                    double score = logScale[i] + Math.Log(res);
                    if (score > bestLog) { bestLog = score; p = i; pivotNorm = res; }
                }
            }
            if (p < 0) throw new InvalidOperationException(
                "graded elimination lost rank; the identity block guarantees full rank, so this is a bug");

            // Reflector H = I − 2vvᵀ/vᵀv on columns j.., mapping r[p, j..] to (σ, 0, …, 0).
            double sigma = r[p, j] >= 0 ? -pivotNorm : pivotNorm;
            for (int k = j; k < h; k++) v[k] = r[p, k];
            v[j] -= sigma;
            double vtv = 0;
            for (int k = j; k < h; k++) vtv += v[k] * v[k];
            if (vtv > 0 && j < h - 1)
            {
                for (int i = 0; i < rows; i++)
                {
                    if (isPivot[i]) continue;   // earlier pivots are zero beyond their column
                    int o = i * h;
                    double dot = 0;
                    for (int k = j; k < h; k++) dot += rd[o + k] * v[k];
                    if (dot == 0) continue;
                    double g = 2 * dot / vtv;
                    for (int k = j; k < h; k++) rd[o + k] -= g * v[k];
                }
            }
            else if (j == h - 1)
            {
                // One column left: the reflector is a sign flip (x ↦ −x = σ for the pivot).
                for (int i = 0; i < rows; i++) if (!isPivot[i]) r[i, j] = -r[i, j];
            }
            r[p, j] = sigma;
            for (int k = j + 1; k < h; k++) r[p, k] = 0;
            isPivot[p] = true;

            // Column j is final: divide it by the pivot's scaled value e^{logScale[p]}·σ.
            if (rel[p] >= Normal)
            {
                double inv = 1 / (rel[p] * sigma);
                for (int i = 0; i < rows; i++)
                {
                    double val = r[i, j];
                    if (val == 0) continue;
                    double ratio = rel[i] / rel[p];
                    result[i, j] = double.IsFinite(ratio) && ratio < 1e290 ? rel[i] * val * inv
                        : ScaledLog(logScale[i] - logScale[p], val, sigma);
                }
            }
            else
            {
                for (int i = 0; i < rows; i++)
                    if (r[i, j] != 0) result[i, j] = ScaledLog(logScale[i] - logScale[p], r[i, j], sigma);
            }
        }
        return result;
    }

    /// <summary>e^{logRatio}·val/σ, formed in logs (neither factor need be representable).</summary>
    private static double ScaledLog(double logRatio, double val, double sigma)
    {
        double mag = Math.Exp(logRatio + Math.Log(Math.Abs(val)) - Math.Log(Math.Abs(sigma)));
        return (val > 0) == (sigma > 0) ? mag : -mag;
    }

    /// <summary>Orthonormal basis of a full-column-rank matrix: modified Gram-Schmidt with a second
    /// pass where cancellation calls for it ("twice is enough"), so orthogonality holds to machine
    /// precision.</summary>
    internal static Matrix OrthonormalColumns(Matrix a)
    {
        int rows = a.Rows, cols = a.Cols;
        // Work column-major so each column is contiguous.
        var q = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) q[j * rows + i] = a.Data[i * cols + j];
        for (int j = 0; j < cols; j++)
        {
            var cj = q.AsSpan(j * rows, rows);
            double before = Matrix.Norm2(cj);
            for (int pass = 0; pass < 2; pass++)
            {
                for (int k = 0; k < j; k++)
                {
                    var ck = q.AsSpan(k * rows, rows);
                    double dot = 0;
                    for (int i = 0; i < rows; i++) dot += ck[i] * cj[i];
                    for (int i = 0; i < rows; i++) cj[i] -= dot * ck[i];
                }
                // Kahan-Parlett: one more pass only if projecting removed most of the column.
                double after = Matrix.Norm2(cj);
                if (after >= 0.7071 * before) break;
                before = after;
            }
            double norm = Matrix.Norm2(cj);
            if (norm == 0) throw new InvalidOperationException("rank-deficient column in orthonormalisation");
            for (int i = 0; i < rows; i++) cj[i] /= norm;
        }
        var result = new Matrix(rows, cols);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) result.Data[i * cols + j] = q[j * rows + i];
        return result;
    }

    /// <summary>
    /// Eigenvalues that agree to a few ulps of the spectral radius are one eigenvalue whose copies
    /// the eigensolver rounded differently; at t = 1e9 such a 1e-16 difference would be amplified
    /// to e^{1e-7}, so equal them to their mean.
    /// </summary>
    private static double[] SnapClusters(double[] descending)
    {
        var mu = (double[])descending.Clone();
        double radius = mu.Length == 0 ? 0 : Math.Max(Math.Abs(mu[0]), Math.Abs(mu[^1]));
        double tol = 64 * 2.220446049250313e-16 * radius;
        int start = 0;
        for (int i = 1; i <= mu.Length; i++)
        {
            if (i < mu.Length && mu[i - 1] - mu[i] <= tol) continue;
            if (i - start > 1)
            {
                double mean = 0;
                for (int k = start; k < i; k++) mean += mu[k];
                mean /= i - start;
                for (int k = start; k < i; k++) mu[k] = mean;
            }
            start = i;
        }
        return mu;
    }
}
