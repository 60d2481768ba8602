namespace RichLazyOrleans.Theory;

/// <summary>
/// A small dense row-major matrix of doubles. Just what the theory engine needs (products,
/// transposes, blocks); sizes here are tens to a few hundreds, so clarity beats blocking.
/// </summary>
public sealed class Matrix
{
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Row-major storage: element (i, j) is Data[i * Cols + j].</summary>
    public double[] Data { get; }

    public Matrix(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        Rows = rows;
        Cols = cols;
        Data = new double[rows * cols];
    }

    public Matrix(int rows, int cols, double[] data)
    {
        if (data.Length != rows * cols)
            throw new ArgumentException($"expected {rows * cols} values for a {rows}x{cols} matrix, got {data.Length}");
        Rows = rows;
        Cols = cols;
        Data = data;
    }

    public double this[int i, int j]
    {
        get => Data[i * Cols + j];
        set => Data[i * Cols + j] = value;
    }

    public static Matrix FromRows(double[][] rows)
    {
        int r = rows.Length, c = r == 0 ? 0 : rows[0].Length;
        var m = new Matrix(r, c);
        for (int i = 0; i < r; i++)
        {
            if (rows[i].Length != c) throw new ArgumentException($"row {i} has {rows[i].Length} values, expected {c}");
            Array.Copy(rows[i], 0, m.Data, i * c, c);
        }
        return m;
    }

    public double[][] ToRows()
    {
        var rows = new double[Rows][];
        for (int i = 0; i < Rows; i++)
        {
            rows[i] = new double[Cols];
            Array.Copy(Data, i * Cols, rows[i], 0, Cols);
        }
        return rows;
    }

    public static Matrix Identity(int n)
    {
        var m = new Matrix(n, n);
        for (int i = 0; i < n; i++) m[i, i] = 1.0;
        return m;
    }

    public Matrix Clone() => new(Rows, Cols, (double[])Data.Clone());

    public Matrix Transpose()
    {
        var t = new Matrix(Cols, Rows);
        for (int i = 0; i < Rows; i++)
            for (int j = 0; j < Cols; j++)
                t[j, i] = this[i, j];
        return t;
    }

    public static Matrix operator *(Matrix a, Matrix b)
    {
        if (a.Cols != b.Rows) throw new ArgumentException($"cannot multiply {a.Rows}x{a.Cols} by {b.Rows}x{b.Cols}");
        var c = new Matrix(a.Rows, b.Cols);
        for (int i = 0; i < a.Rows; i++)
            for (int k = 0; k < a.Cols; k++)
            {
                double aik = a[i, k];
                if (aik == 0) continue;
                int bo = k * b.Cols, co = i * c.Cols;
                for (int j = 0; j < b.Cols; j++) c.Data[co + j] += aik * b.Data[bo + j];
            }
        return c;
    }

    public static Matrix operator *(double s, Matrix a)
    {
        var c = new Matrix(a.Rows, a.Cols);
        for (int i = 0; i < a.Data.Length; i++) c.Data[i] = s * a.Data[i];
        return c;
    }

    public static Matrix operator +(Matrix a, Matrix b) => Combine(a, b, 1.0);
    public static Matrix operator -(Matrix a, Matrix b) => Combine(a, b, -1.0);

    private static Matrix Combine(Matrix a, Matrix b, double sign)
    {
        if (a.Rows != b.Rows || a.Cols != b.Cols)
            throw new ArgumentException($"shape mismatch {a.Rows}x{a.Cols} vs {b.Rows}x{b.Cols}");
        var c = new Matrix(a.Rows, a.Cols);
        for (int i = 0; i < a.Data.Length; i++) c.Data[i] = a.Data[i] + sign * b.Data[i];
        return c;
    }

    /// <summary>A·Aᵀ.</summary>
    public Matrix TimesTranspose() => this * Transpose();
    /// <summary>Aᵀ·A.</summary>
    public Matrix TransposeTimes() => Transpose() * this;

    public Matrix Block(int row0, int col0, int rows, int cols)
    {
        var m = new Matrix(rows, cols);
        for (int i = 0; i < rows; i++)
            Array.Copy(Data, (row0 + i) * Cols + col0, m.Data, i * cols, cols);
        return m;
    }

    public void SetBlock(int row0, int col0, Matrix block)
    {
        for (int i = 0; i < block.Rows; i++)
            Array.Copy(block.Data, i * block.Cols, Data, (row0 + i) * Cols + col0, block.Cols);
    }

    /// <summary>Frobenius norm, scaled to avoid overflow and underflow.</summary>
    public double FrobeniusNorm() => Norm2(Data);

    public double Trace()
    {
        double t = 0;
        for (int i = 0; i < Math.Min(Rows, Cols); i++) t += this[i, i];
        return t;
    }

    public bool AllFinite()
    {
        foreach (double v in Data) if (!double.IsFinite(v)) return false;
        return true;
    }

    /// <summary>
    /// Euclidean norm of a vector. Plain sum of squares when that is safe; otherwise scaled (LAPACK
    /// dnrm2 style) so it neither overflows nor underflows.
    /// </summary>
    public static double Norm2(ReadOnlySpan<double> x)
    {
        double plain = 0;
        foreach (double v in x) plain += v * v;
        if (plain > 1e-280 && plain < 1e280) return Math.Sqrt(plain);
        if (plain == 0) return 0;
        double scale = 0, ssq = 1;
        foreach (double v in x)
        {
            if (v == 0) continue;
            double a = Math.Abs(v);
            if (scale < a) { ssq = 1 + ssq * (scale / a) * (scale / a); scale = a; }
            else ssq += (a / scale) * (a / scale);
        }
        return scale * Math.Sqrt(ssq);
    }

    public override string ToString() =>
        string.Join("\n", ToRows().Select(r =>
            string.Join(" ", r.Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)))));
}
