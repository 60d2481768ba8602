namespace RichLazyOrleans.Theory;

/// <summary>
/// Eigendecomposition A = V·diag(λ)·Vᵀ of a real symmetric matrix by the cyclic Jacobi method.
/// Chosen over tridiagonal QR for its accuracy: eigenvalues to within a few ulps of ‖A‖ and
/// orthonormal eigenvectors, which the exact solutions need because eigenvalues are multiplied
/// by t (up to 1e9) inside exponentials. O(n³) per sweep, typically 6-10 sweeps; fine for the
/// hundreds-sized matrices of the theory engine.
/// </summary>
public sealed class SymmetricEigen
{
    private const double Eps = 2.220446049250313e-16;

    /// <summary>Eigenvalues, descending.</summary>
    public double[] Values { get; }
    /// <summary>Orthonormal eigenvectors as columns, in the order of <see cref="Values"/>.</summary>
    public Matrix Vectors { get; }

    public SymmetricEigen(Matrix a)
    {
        if (a.Rows != a.Cols)
            throw new ArgumentException($"eigendecomposition needs a square matrix, got {a.Rows}x{a.Cols}");
        if (!a.AllFinite()) throw new ArgumentException("matrix has non-finite entries");
        int n = a.Rows;
        // Work on the symmetric part so tiny asymmetries from round-off cannot bias the result.
        var m = new Matrix(n, n);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                m[i, j] = 0.5 * (a[i, j] + a[j, i]);
        var v = Matrix.Identity(n);
        double norm = m.FrobeniusNorm();

        for (int sweep = 0; sweep < 100; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = m[p, q];
                    if (apq == 0) continue;
                    double app = m[p, p], aqq = m[q, q];
                    // Negligible: below a small fraction of an ulp relative to the diagonal (relative
                    // criterion of Demmel-Veselić) or to the whole matrix.
                    if (Math.Abs(apq) <= 0.25 * Eps * Math.Sqrt(Math.Abs(app * aqq)) || Math.Abs(apq) <= 1e-18 * norm)
                    {
                        m[p, q] = 0; m[q, p] = 0;
                        continue;
                    }
                    rotated = true;
                    double theta = (aqq - app) / (2 * apq);
                    double t = (theta >= 0 ? 1.0 : -1.0) / (Math.Abs(theta) + double.Hypot(1.0, theta));
                    double c = 1 / Math.Sqrt(1 + t * t), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = m[k, p], akq = m[k, q];
                        m[k, p] = c * akp - s * akq;
                        m[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = m[p, k], aqk = m[q, k];
                        m[p, k] = c * apk - s * aqk;
                        m[q, k] = s * apk + c * aqk;
                    }
                    m[p, q] = 0; m[q, p] = 0;
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
            if (!rotated) break;
            if (sweep == 99)
                throw new InvalidOperationException("Jacobi eigenvalue iteration did not converge in 100 sweeps");
        }

        var order = Enumerable.Range(0, n).OrderByDescending(i => m[i, i]).ToArray();
        Values = order.Select(i => m[i, i]).ToArray();
        Vectors = new Matrix(n, n);
        for (int j = 0; j < n; j++)
            for (int k = 0; k < n; k++)
                Vectors[k, j] = v[k, order[j]];
    }

    /// <summary>V·diag(f(λ))·Vᵀ: a matrix function of the decomposed matrix (square root, etc.).</summary>
    public Matrix Apply(Func<double, double> f)
    {
        int n = Values.Length;
        var r = new Matrix(n, n);
        for (int k = 0; k < n; k++)
        {
            double fk = f(Values[k]);
            if (fk == 0) continue;
            for (int i = 0; i < n; i++)
            {
                double vik = Vectors[i, k] * fk;
                if (vik == 0) continue;
                for (int j = 0; j < n; j++) r[i, j] += vik * Vectors[j, k];
            }
        }
        return r;
    }
}
