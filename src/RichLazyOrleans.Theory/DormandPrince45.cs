namespace RichLazyOrleans.Theory;

/// <summary>Right-hand side of ẏ = f(t, y); writes f into <c>dydt</c>.</summary>
public delegate void OdeFunction(double t, ReadOnlySpan<double> y, Span<double> dydt);

/// <summary>Work done by one integration.</summary>
public sealed record IntegrationStats(long Steps, long Rejected, long Evaluations, double SteadyStateFrom);

/// <summary>The integrator hit its step limit before the requested time.</summary>
public sealed class StepLimitException(double reached, double target, long steps)
    : Exception($"numerical gradient flow reached t = {reached:G6} of {target:G6} within the limit of {steps} steps " +
        "(the flow is slow near a saddle or the tolerance is too tight)");

/// <summary>
/// Adaptive explicit Runge-Kutta integrator of Dormand and Prince, order 5 with an embedded order-4
/// error estimate (Hairer, Nørsett, Wanner, Solving ODEs I, II.5), first-same-as-last, with the
/// standard step-size controller on the RMS norm of err_i/(atol + rtol·max(|y_i|, |ŷ_i|)).
/// Outputs are hit exactly by shortening the step that would pass them.
/// </summary>
/// <remarks>
/// Gradient flows converge to fixed points, where an explicit method's step is capped by stability,
/// so reaching t = 1e9 step by step is hopeless. When ‖ẏ‖∞ has fallen below
/// <see cref="SteadyStateRatio"/> times the largest ‖ẏ‖∞ seen on the trajectory, the state is
/// treated as a fixed point and held for all later outputs (set the ratio to 0 to disable).
/// </remarks>
public sealed class DormandPrince45
{
    public double RelativeTolerance { get; init; } = 1e-10;
    public double AbsoluteTolerance { get; init; } = 1e-14;
    public long MaxSteps { get; init; } = 20_000_000;
    public double SteadyStateRatio { get; init; } = 1e-13;

    /// <summary>
    /// Also treat the state as a fixed point after this many consecutive accepted steps whose change ‖ẏ‖∞·h is within
    /// 10·(atol + rtol·‖y‖∞), i.e. the solution no longer moves beyond the integrator's own error (0: off). Near a
    /// stable fixed point the step is capped by stability at h ≈ 3.3/λ_max, and the solution wanders at the
    /// tolerance, so ‖ẏ‖∞ stays about λ_max·rtol·‖y‖ and the ratio test above may never pass (deep linear
    /// networks: loss ~1e-21, ‖ẏ‖ ~1e-10 of its peak). Near a saddle the dynamics are slow, the error-limited step
    /// grows, and ‖ẏ‖·h stays well above the tolerance, so a plateau does not pass this test.
    /// </summary>
    public int NoiseFloorSteps { get; init; }

    // Butcher tableau.
    private const double C2 = 1.0 / 5, C3 = 3.0 / 10, C4 = 4.0 / 5, C5 = 8.0 / 9;
    private const double A21 = 1.0 / 5;
    private const double A31 = 3.0 / 40, A32 = 9.0 / 40;
    private const double A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
    private const double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561, A54 = -212.0 / 729;
    private const double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176,
        A65 = -5103.0 / 18656;
    private const double B1 = 35.0 / 384, B3 = 500.0 / 1113, B4 = 125.0 / 192, B5 = -2187.0 / 6784, B6 = 11.0 / 84;
    // Error coefficients: fifth-order minus embedded fourth-order weights.
    private const double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920, E5 = -17253.0 / 339200,
        E6 = 22.0 / 525, E7 = -1.0 / 40;

    /// <summary>
    /// Integrates from (t0, y0) and returns y at each requested time (any order, each ≥ t0).
    /// </summary>
    public (double[][] States, IntegrationStats Stats) Solve(OdeFunction f, double t0, double[] y0,
        IReadOnlyList<double> times)
    {
        if (!(RelativeTolerance > 0) || !(AbsoluteTolerance >= 0))
            throw new ArgumentException("tolerances must be positive");
        int n = y0.Length;
        var order = Enumerable.Range(0, times.Count).OrderBy(i => times[i]).ToArray();
        var outputs = new double[times.Count][];
        foreach (var tt in times)
            if (!(tt >= t0) || !double.IsFinite(tt))
                throw new ArgumentOutOfRangeException(nameof(times), tt, "output times must be finite and >= t0");

        var y = (double[])y0.Clone();
        var yNew = new double[n];
        var tmp = new double[n];
        var k1 = new double[n]; var k2 = new double[n]; var k3 = new double[n]; var k4 = new double[n];
        var k5 = new double[n]; var k6 = new double[n]; var k7 = new double[n];
        long steps = 0, rejected = 0, evals = 0;
        double t = t0;
        f(t, y, k1); evals++;
        double maxDeriv = NormInf(k1);
        double steadyFrom = double.NaN;
        bool steady = maxDeriv == 0;
        if (steady) steadyFrom = t;
        double h = steady ? 0 : InitialStep(f, t, y, k1, tmp, k2, ref evals);

        int next = 0, atFloor = 0;
        while (next < order.Length)
        {
            double target = times[order[next]];
            if (steady || t >= target)
            {
                outputs[order[next]] = (double[])y.Clone();
                next++;
                continue;
            }
            if (steps >= MaxSteps) throw new StepLimitException(t, target, MaxSteps);
            bool last = t + h >= target;
            double hStep = last ? target - t : h;

            for (int i = 0; i < n; i++) tmp[i] = y[i] + hStep * A21 * k1[i];
            f(t + C2 * hStep, tmp, k2);
            for (int i = 0; i < n; i++) tmp[i] = y[i] + hStep * (A31 * k1[i] + A32 * k2[i]);
            f(t + C3 * hStep, tmp, k3);
            for (int i = 0; i < n; i++) tmp[i] = y[i] + hStep * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
            f(t + C4 * hStep, tmp, k4);
            for (int i = 0; i < n; i++) tmp[i] = y[i] + hStep * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
            f(t + C5 * hStep, tmp, k5);
            for (int i = 0; i < n; i++)
                tmp[i] = y[i] + hStep * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
            f(t + hStep, tmp, k6);
            for (int i = 0; i < n; i++)
                yNew[i] = y[i] + hStep * (B1 * k1[i] + B3 * k3[i] + B4 * k4[i] + B5 * k5[i] + B6 * k6[i]);
            f(t + hStep, yNew, k7);
            evals += 6;

            double err = 0;
            for (int i = 0; i < n; i++)
            {
                double e = hStep * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
                double sc = AbsoluteTolerance + RelativeTolerance * Math.Max(Math.Abs(y[i]), Math.Abs(yNew[i]));
                double r = sc > 0 ? e / sc : (e == 0 ? 0 : double.PositiveInfinity);
                err += r * r;
            }
            err = n == 0 ? 0 : Math.Sqrt(err / n);
            if (!double.IsFinite(err)) err = 1e10;

            steps++;
            double factor = err == 0 ? 10 : Math.Min(10, Math.Max(0.2, 0.9 * Math.Pow(err, -0.2)));
            if (err <= 1)
            {
                t = last ? target : t + hStep;
                (y, yNew) = (yNew, y);
                (k1, k7) = (k7, k1);
                // Keep the controller's step when this one was only shortened to land on an output.
                if (!last || hStep >= h) h = hStep * factor;
                double deriv = NormInf(k1);
                maxDeriv = Math.Max(maxDeriv, deriv);
                if (SteadyStateRatio > 0 && deriv <= SteadyStateRatio * maxDeriv) { steady = true; steadyFrom = t; }
                if (NoiseFloorSteps > 0 && !steady)
                {
                    double floor = 10 * (AbsoluteTolerance + RelativeTolerance * NormInf(y));
                    atFloor = deriv * hStep <= floor ? atFloor + 1 : 0;
                    if (atFloor >= NoiseFloorSteps) { steady = true; steadyFrom = t; }
                }
            }
            else
            {
                rejected++;
                h = hStep * Math.Min(1, factor);
            }
            if (!(h > 0) || t + h == t) throw new InvalidOperationException($"step size underflow at t = {t:G6}");
        }
        return (outputs, new IntegrationStats(steps, rejected, evals, steadyFrom));
    }

    private double InitialStep(OdeFunction f, double t, double[] y, double[] f0, double[] y1, double[] f1,
        ref long evals)
    {
        // Hairer-Wanner's starting-step heuristic.
        int n = y.Length;
        double d0 = 0, d1 = 0;
        for (int i = 0; i < n; i++)
        {
            double sc = AbsoluteTolerance + RelativeTolerance * Math.Abs(y[i]);
            d0 += (y[i] / sc) * (y[i] / sc);
            d1 += (f0[i] / sc) * (f0[i] / sc);
        }
        d0 = Math.Sqrt(d0 / n);
        d1 = Math.Sqrt(d1 / n);
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        for (int i = 0; i < n; i++) y1[i] = y[i] + h0 * f0[i];
        f(t + h0, y1, f1); evals++;
        double d2 = 0;
        for (int i = 0; i < n; i++)
        {
            double sc = AbsoluteTolerance + RelativeTolerance * Math.Abs(y[i]);
            double r = (f1[i] - f0[i]) / sc;
            d2 += r * r;
        }
        d2 = Math.Sqrt(d2 / n) / h0;
        double m = Math.Max(d1, d2);
        double h1 = m <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / m, 0.2);
        return Math.Min(100 * h0, h1);
    }

    private static double NormInf(ReadOnlySpan<double> x)
    {
        double m = 0;
        foreach (double v in x) m = Math.Max(m, Math.Abs(v));
        return m;
    }
}
