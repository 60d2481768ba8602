namespace RichLazyOrleans.Theory;

/// <summary>State of the single hidden linear neuron f(x) = a·wᵀx at time t.</summary>
/// <param name="T">time</param>
/// <param name="A">read-out weight a</param>
/// <param name="W">input weights w (length d)</param>
/// <param name="Beta">β = a·w</param>
/// <param name="Delta">δ = η_w a² − η_a ‖w‖² (conserved by gradient flow)</param>
/// <param name="KernelDistance">S(t) = 1 − ⟨K₀, K_t⟩/(‖K₀‖‖K_t‖) of the NTK K = X(η_w a² I + η_a wwᵀ)Xᵀ</param>
/// <param name="Loss">½‖a w − β*‖² (the loss up to its constant)</param>
public sealed record SingleNeuronState(double T, double A, double[] W, double[] Beta, double Delta,
    double KernelDistance, double Loss);

/// <summary>
/// Exact gradient-flow dynamics of one hidden linear neuron on whitened inputs (SCIENCE.md §1):
/// L = ½‖a w − β*‖², ȧ = −η_a ∂L/∂a, ẇ = −η_w ∇_w L, for every δ, every t ≥ 0 and any d.
/// </summary>
/// <remarks>
/// Why not the Riccati solution for ν = wᵀβ*/a: it has a pole where a crosses zero. Instead,
/// with rates scaled out (ã = a/√η_a, w̃ = w/√η_w, b = β*/√(η_aη_w), T = η_aη_w t), q = [w̃; ã]
/// obeys q̇ = Aq − ½q‖q‖² with A = [[−δ̃/2·I, b],[bᵀ, δ̃/2]] (the h = c = 1 case of the
/// two-layer solution), solved by q(T) = e^{AT}q₀/√(1 + q₀ᵀG(T)q₀), G(T) = ∫₀ᵀe^{2As}ds, with no
/// pole. q₀ touches only three eigen-directions of A, all in closed form: ±D/2
/// (D = √(δ̃² + 4‖b‖²)) in the plane of b and a, and −δ̃/2 along the part of w̃₀ orthogonal to b.
/// Each component is then sign(c_i)·f_i·√r_i (see <see cref="RiccatiModes"/>), formed in logs,
/// so there is no overflow and no cancellation at any t.
/// </remarks>
public sealed class SingleNeuronExact
{
    private readonly double[] _betaStar, _w0;
    private readonly double _a0, _etaA, _etaW;
    private readonly double[] _u;      // unit vector along b (or a stand-in when b = 0)
    private readonly double[] _uPerp;  // unit vector along the part of w̃₀ orthogonal to u (or zeros)
    private readonly Mode[] _modes;    // +D/2, −D/2 (in the (u, a) plane), −δ̃/2 (along u⊥)
    private readonly double[] _vPlus, _vMinus; // plane eigenvectors, coordinates (along u, along a)
    private readonly double _kx0;              // NTK at t = 0 is K₀ = x₀·I + p₀p₀ᵀ: x₀ = η_w a₀²,
    private readonly double[] _kp0;            // p₀ = √η_a·w₀

    // An eigen-mode of A touched by q₀: eigenvalue μ, coefficient c of q₀ on it, and the
    // time-independent logs the hot path needs.
    private readonly record struct Mode(double Mu, double Coefficient)
    {
        public double LogTwoAbsMu { get; } = Math.Log(2 * Math.Abs(Mu));
        public double LogC2 { get; } = 2 * Math.Log(Math.Abs(Coefficient));
    }

    public int Dimension => _betaStar.Length;
    /// <summary>δ = η_w a² − η_a ‖w‖², the conserved quantity.</summary>
    public double Delta { get; }

    public SingleNeuronExact(double[] betaStar, double a0, double[] w0, double etaA = 1.0, double etaW = 1.0)
    {
        int d = betaStar.Length;
        if (d < 1) throw new ArgumentException("beta_star must have at least one entry");
        if (w0.Length != d) throw new ArgumentException($"w0 has {w0.Length} entries but beta_star has {d}");
        if (!(etaA > 0) || !double.IsFinite(etaA))
            throw new ArgumentOutOfRangeException(nameof(etaA), etaA, "eta_a must be finite and > 0");
        if (!(etaW > 0) || !double.IsFinite(etaW))
            throw new ArgumentOutOfRangeException(nameof(etaW), etaW, "eta_w must be finite and > 0");
        if (!double.IsFinite(a0) || betaStar.Any(v => !double.IsFinite(v)) || w0.Any(v => !double.IsFinite(v)))
            throw new ArgumentException("non-finite input");
        _betaStar = (double[])betaStar.Clone();
        _w0 = (double[])w0.Clone();
        _a0 = a0;
        _etaA = etaA;
        _etaW = etaW;
        Delta = etaW * a0 * a0 - etaA * Dot(w0, w0);

        // Rates scaled out.
        double aT = a0 / Math.Sqrt(etaA);
        var wT = w0.Select(v => v / Math.Sqrt(etaW)).ToArray();
        var b = betaStar.Select(v => v / Math.Sqrt(etaA * etaW)).ToArray();
        double deltaT = aT * aT - Dot(wT, wT);

        double s = Matrix.Norm2(b);
        double wNorm = Matrix.Norm2(wT);
        _u = new double[d];
        if (s > 0) for (int i = 0; i < d; i++) _u[i] = b[i] / s;
        else if (wNorm > 0) for (int i = 0; i < d; i++) _u[i] = wT[i] / wNorm;
        else _u[0] = 1.0;

        double wPar = Dot(_u, wT);
        var wPerp = new double[d];
        for (int i = 0; i < d; i++) wPerp[i] = wT[i] - wPar * _u[i];
        double cPerp = Matrix.Norm2(wPerp);
        _uPerp = new double[d];
        if (cPerp > 0) for (int i = 0; i < d; i++) _uPerp[i] = wPerp[i] / cPerp;

        // Plane block [[−δ̃/2, s], [s, δ̃/2]]: eigenvalues ±D/2. Use the eigenvector formulas that do
        // not cancel: (s, (D+δ̃)/2) and ((D+δ̃)/2, −s) when δ̃ ≥ 0, else ((D−δ̃)/2, s) and (−s, (D−δ̃)/2).
        double dd = double.Hypot(deltaT, 2 * s);
        (double x, double y) vp, vm;
        if (deltaT >= 0) { double k = 0.5 * (dd + deltaT); vp = (s, k); vm = (k, -s); }
        else { double k = 0.5 * (dd - deltaT); vp = (k, s); vm = (-s, k); }
        double np = double.Hypot(vp.x, vp.y);
        if (np == 0) { vp = (0, 1); vm = (1, 0); np = 1; }   // s = 0 and δ̃ = 0: A = 0, any basis
        _vPlus = [vp.x / np, vp.y / np];
        _vMinus = [vm.x / np, vm.y / np];

        _modes =
        [
            new Mode(0.5 * dd, _vPlus[0] * wPar + _vPlus[1] * aT),
            new Mode(-0.5 * dd, _vMinus[0] * wPar + _vMinus[1] * aT),
            new Mode(-0.5 * deltaT, cPerp),
        ];

        _kx0 = etaW * a0 * a0;
        _kp0 = w0.Select(v => Math.Sqrt(etaA) * v).ToArray();
    }

    /// <summary>The state at time t ≥ 0 (finite).</summary>
    public SingleNeuronState At(double t)
    {
        if (!(t >= 0) || !double.IsFinite(t))
            throw new ArgumentOutOfRangeException(nameof(t), t, "time must be finite and >= 0");
        int d = Dimension;
        double a;
        var w = new double[d];
        double bigT = _etaA * _etaW * t;
        if (bigT == 0)
        {
            a = _a0;
            Array.Copy(_w0, w, d);
        }
        else
        {
            // q_i(T) = sign(c_i)·f_i·√r_i with r_i = g_i c_i² / (1 + Σ_j g_j c_j²), formed in logs so that
            // the huge common factor cancels exactly.
            Span<double> logWeight = stackalloc double[3];
            Span<double> f2 = stackalloc double[3];
            double max = 0; // the "1 +" term has log weight 0
            for (int i = 0; i < 3; i++)
            {
                var m = _modes[i];
                if (m.Coefficient == 0) { logWeight[i] = double.NegativeInfinity; f2[i] = 0; continue; }
                RiccatiModes.Evaluate(m.Mu, m.LogTwoAbsMu, bigT, out double logG, out f2[i]);
                logWeight[i] = logG + m.LogC2;
                if (logWeight[i] > max) max = logWeight[i];
            }
            double sum = Math.Exp(-max);
            Span<double> weight = stackalloc double[3];
            for (int i = 0; i < 3; i++) { weight[i] = Math.Exp(logWeight[i] - max); sum += weight[i]; }
            Span<double> amp = stackalloc double[3];
            for (int i = 0; i < 3; i++)
                amp[i] = weight[i] == 0 ? 0 : Math.Sign(_modes[i].Coefficient) * Math.Sqrt(f2[i] * (weight[i] / sum));
            double wPar = amp[0] * _vPlus[0] + amp[1] * _vMinus[0];
            double aT = amp[0] * _vPlus[1] + amp[1] * _vMinus[1];
            a = Math.Sqrt(_etaA) * aT;
            double sw = Math.Sqrt(_etaW);
            for (int i = 0; i < d; i++) w[i] = sw * (wPar * _u[i] + amp[2] * _uPerp[i]);
        }
        var beta = new double[d];
        double loss = 0;
        for (int i = 0; i < d; i++)
        {
            beta[i] = a * w[i];
            double r = beta[i] - _betaStar[i];
            loss += 0.5 * r * r;
        }
        double delta = _etaW * a * a - _etaA * Dot(w, w);
        Span<double> pt = d <= 512 ? stackalloc double[d] : new double[d];
        double se = Math.Sqrt(_etaA);
        for (int i = 0; i < d; i++) pt[i] = se * w[i];
        double kd = KernelDistance.SingleNeuron(_kx0, _kp0, _etaW * a * a, pt);
        return new SingleNeuronState(t, a, w, beta, delta, kd, loss);
    }

    internal static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }
}
