using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

/// <summary>
/// An independent teacher-student implementation in plain loops (no TorchSharp, no shared code
/// with the engine beyond the generated data): gradient descent written from the loss
/// (1/n)Σ(Σ_k a_k relu(w_kᵀx_i) − y_i)², and the NTK built from explicit per-example Jacobians.
/// </summary>
internal sealed class Reference
{
    private readonly TeacherStudentData _data;
    private readonly double[] _w, _a;
    private readonly double[,] _k0;
    private readonly bool[,] _z0;
    public int N => _data.N;

    public Reference(TeacherStudentData data)
    {
        _data = data;
        _w = (double[])data.W0.Clone();
        _a = (double[])data.A0.Clone();
        _k0 = Ntk();
        _z0 = Signs();
    }

    private double Pre(int i, int k, double[] x)
    {
        double z = 0;
        for (int j = 0; j < _data.D; j++) z += _w[k * _data.D + j] * x[i * _data.D + j];
        return z;
    }

    private double Output(int i, double[] x)
    {
        double f = 0;
        for (int k = 0; k < _data.M; k++) f += _a[k] * Math.Max(0, Pre(i, k, x));
        return f;
    }

    public void Step(double lr)
    {
        int n = _data.N, d = _data.D, m = _data.M;
        var gw = new double[m * d];
        var ga = new double[m];
        for (int i = 0; i < n; i++)
        {
            double r = Output(i, _data.X) - _data.Y[i];
            for (int k = 0; k < m; k++)
            {
                double z = Pre(i, k, _data.X);
                ga[k] += 2.0 / n * r * Math.Max(0, z);
                if (z > 0)
                    for (int j = 0; j < d; j++) gw[k * d + j] += 2.0 / n * r * _a[k] * _data.X[i * d + j];
            }
        }
        for (int k = 0; k < m; k++) _a[k] -= lr * ga[k];
        for (int q = 0; q < m * d; q++) _w[q] -= lr * gw[q];
    }

    public double Loss(double[] x, double[] y)
    {
        double s = 0;
        for (int i = 0; i < y.Length; i++) { double r = Output(i, x) - y[i]; s += r * r; }
        return s / y.Length;
    }

    /// <summary>K = J Jᵀ, J_i = (∂f(x_i)/∂a_k = relu(z_ik), ∂f(x_i)/∂w_k = a_k 1[z_ik ≥ 0] x_i).</summary>
    private double[,] Ntk()
    {
        int n = _data.N, d = _data.D, m = _data.M, p = m + m * d;
        var jac = new double[n, p];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < m; k++)
            {
                double z = Pre(i, k, _data.X);
                jac[i, k] = Math.Max(0, z);
                if (z >= 0)
                    for (int j = 0; j < d; j++) jac[i, m + k * d + j] = _a[k] * _data.X[i * d + j];
            }
        var kk = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int l = 0; l < n; l++)
            {
                double s = 0;
                for (int q = 0; q < p; q++) s += jac[i, q] * jac[l, q];
                kk[i, l] = s;
            }
        return kk;
    }

    private bool[,] Signs()
    {
        var s = new bool[_data.N, _data.M];
        for (int i = 0; i < _data.N; i++)
            for (int k = 0; k < _data.M; k++) s[i, k] = Pre(i, k, _data.X) >= 0;
        return s;
    }

    public TeacherStudentRow Metrics(long step)
    {
        var k = Ntk();
        double n0 = 0, nt = 0;
        foreach (double v in _k0) n0 += v * v;
        foreach (double v in k) nt += v * v;
        n0 = Math.Sqrt(n0); nt = Math.Sqrt(nt);
        double kd = 0;
        for (int i = 0; i < N; i++)
            for (int l = 0; l < N; l++) { double diff = _k0[i, l] / n0 - k[i, l] / nt; kd += diff * diff; }
        var z = Signs();
        double hamming = 0;
        for (int i = 0; i < N; i++)
            for (int q = 0; q < _data.M; q++) if (z[i, q] != _z0[i, q]) hamming += 1.0 / N;
        double pd = 0;
        for (int q = 0; q < _w.Length; q++) pd += (_w[q] - _data.W0[q]) * (_w[q] - _data.W0[q]);
        for (int q = 0; q < _a.Length; q++) pd += (_a[q] - _data.A0[q]) * (_a[q] - _data.A0[q]);
        double drift = 0;
        for (int q = 0; q < _data.M; q++)
        {
            double w2 = 0, w02 = 0;
            for (int j = 0; j < _data.D; j++)
            {
                w2 += _w[q * _data.D + j] * _w[q * _data.D + j];
                w02 += _data.W0[q * _data.D + j] * _data.W0[q * _data.D + j];
            }
            drift = Math.Max(drift, Math.Abs(_a[q] * _a[q] - w2 - (_data.A0[q] * _data.A0[q] - w02)));
        }
        return new TeacherStudentRow(step, Loss(_data.X, _data.Y), Loss(_data.XTest, _data.YTest), 0.5 * kd, hamming,
            Math.Sqrt(pd), drift, "ok", 0);
    }
}
