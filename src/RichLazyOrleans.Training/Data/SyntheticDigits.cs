namespace RichLazyOrleans.Training;

/// <summary>
/// A local stand-in for MNIST with its exact file format: greyscale images of the digits 0-9 drawn as
/// anti-aliased pen strokes. They are <b>synthetic</b>: useful to exercise and smoke-test a pipeline
/// that reads MNIST (and to compare runs against each other), not to quote MNIST numbers.
/// <para>
/// Each digit is a few strokes (ellipse arcs, Catmull-Rom curves, polylines) in a unit box, sometimes
/// in one of two variants (a 1 with a flag, a 7 with a cross bar, an open or closed 4, ...). Per image,
/// from the example's own random stream: a smooth random displacement field bends the strokes; an
/// affine map scales them (0.8-1.1 of a 19-pixel centre-line height, so with the pen about MNIST's
/// 20-pixel box; width ×0.85-1.15), shears (slant ±0.3), rotates (±15°) and shifts (±2 px) them about
/// their centre of mass, which otherwise sits at the image centre as in MNIST (so the digit fills about
/// the middle 20 × 20 of 28 × 28; a digit that would touch the border is moved back inside); the pen is
/// 1.5-3 px wide with round ends and an anti-aliased edge; a Gaussian blur (σ 0.4-0.8 px) softens it;
/// the image is scaled to peak 1 and quantised to k/255, so it survives an IDX round trip exactly.
/// Sizes other than 28 scale every length by size/28.
/// </para>
/// <para>
/// Example i of a set depends only on (seed, set, i) through its own <see cref="Rng"/> stream, so the
/// first n examples of a larger set equal a set of n, and generation may run in parallel. The training
/// set (<see cref="Generate"/>) and the test set (<see cref="GenerateTest"/>) use disjoint streams.
/// </para>
/// </summary>
public static class SyntheticDigits
{
    public const string TrainImagesFile = "train-images-idx3-ubyte";
    public const string TrainLabelsFile = "train-labels-idx1-ubyte";
    public const string TestImagesFile = "t10k-images-idx3-ubyte";
    public const string TestLabelsFile = "t10k-labels-idx1-ubyte";

    /// <summary>The smallest image side allowed (a digit needs some pixels).</summary>
    public const int MinSize = 8;

    /// <summary>The largest image side allowed.</summary>
    public const int MaxSize = 1024;

    private const ulong TrainSet = 0, TestSet = 1;

    /// <summary><paramref name="count"/> training-set images (size × size, values k/255) and labels 0-9.</summary>
    public static MnistData Generate(int count, ulong seed, int size = 28) => Generate(count, seed, size, TrainSet);

    /// <summary>
    /// <paramref name="count"/> test-set images: the same distribution as <see cref="Generate"/> from
    /// disjoint random streams (what <see cref="WriteIdx"/> writes as t10k-*).
    /// </summary>
    public static MnistData GenerateTest(int count, ulong seed, int size = 28) => Generate(count, seed, size, TestSet);

    /// <summary>
    /// Writes <c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c> (<paramref name="trainCount"/>
    /// examples of <see cref="Generate"/>) and <c>t10k-images-idx3-ubyte</c>, <c>t10k-labels-idx1-ubyte</c>
    /// (<paramref name="testCount"/> of <see cref="GenerateTest"/>) into <paramref name="directory"/>
    /// (created if missing), each name with ".gz" appended and gzipped when <paramref name="gzip"/>.
    /// Every file is written atomically.
    /// </summary>
    public static void WriteIdx(string directory, int trainCount, int testCount, ulong seed, bool gzip = false)
    {
        if (trainCount < 0)
            throw new ArgumentOutOfRangeException(nameof(trainCount), trainCount, "trainCount must be ≥ 0");
        if (testCount < 0) throw new ArgumentOutOfRangeException(nameof(testCount), testCount, "testCount must be ≥ 0");
        Directory.CreateDirectory(directory);
        var paths = Paths(directory, gzip);
        WriteSet(Generate(trainCount, seed), paths.TrainImages, paths.TrainLabels, gzip);
        WriteSet(GenerateTest(testCount, seed), paths.TestImages, paths.TestLabels, gzip);
    }

    /// <summary>The four file paths <see cref="WriteIdx"/> writes in <paramref name="directory"/>.</summary>
    public static (string TrainImages, string TrainLabels, string TestImages, string TestLabels) Paths(string directory,
        bool gzip = false)
    {
        string ext = gzip ? ".gz" : "";
        return (Path.Combine(directory, TrainImagesFile + ext), Path.Combine(directory, TrainLabelsFile + ext),
                Path.Combine(directory, TestImagesFile + ext), Path.Combine(directory, TestLabelsFile + ext));
    }

    /// <summary>
    /// A grey tile of the first min(count, columns·rows) images of <paramref name="data"/>, one pixel
    /// border between them: bytes (0 black, 255 white) of width × height, for <see cref="Png.WriteGray"/>.
    /// Digits are drawn white on black, as stored.
    /// </summary>
    public static (byte[] Pixels, int Width, int Height) Tile(MnistData data, int columns = 10, int rows = 10)
    {
        if (columns < 1 || rows < 1)
            throw new ArgumentException($"tile needs ≥ 1 column and row, got {columns}×{rows}");
        int n = Math.Min(data.Count, columns * rows);
        if (n == 0) throw new ArgumentException("no images to tile", nameof(data));
        rows = (n + columns - 1) / columns;
        if (rows == 1) columns = n;
        int width = columns * (data.Cols + 1) + 1, height = rows * (data.Rows + 1) + 1;
        var px = new byte[width * height];
        Array.Fill(px, (byte)96);
        for (int k = 0; k < n; k++)
        {
            int x0 = 1 + k % columns * (data.Cols + 1), y0 = 1 + k / columns * (data.Rows + 1);
            for (int i = 0; i < data.Rows; i++)
                for (int j = 0; j < data.Cols; j++)
                    px[(y0 + i) * width + x0 + j] =
                        (byte)Math.Round(255 * data.Images[(long)k * data.PixelsPerImage + i * data.Cols + j]);
        }
        return (px, width, height);
    }

    // ---- generation ------------------------------------------------------------------------

    private static MnistData Generate(int count, ulong seed, int size, ulong set)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be ≥ 0");
        if (size is < MinSize or > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"size must be between {MinSize} and {MaxSize}");
        int pixels = size * size;
        var images = new double[checked(count * pixels)];
        var labels = new int[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = count < 256 ? 1 : -1 },
            () => new Canvas(size),
            (i, _, canvas) =>
            {
                var rng = new Rng(seed, StreamOf(set, (ulong)i));
                labels[i] = Draw(rng, canvas, images.AsSpan(i * pixels, pixels));
                return canvas;
            },
            _ => { });
        return new MnistData(images, count, size, size, labels);
    }

    /// <summary>
    /// A well-mixed stream id per (set, example), so neighbouring examples' generators share no structure.
    /// </summary>
    private static ulong StreamOf(ulong set, ulong i)
    {
        ulong z = i + set * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Writes a freshly generated set; its images are turned into bytes 0-255 in place (no second copy).
    /// </summary>
    private static void WriteSet(MnistData d, string imagesPath, string labelsPath, bool gzip)
    {
        var bytes = d.Images;
        for (int i = 0; i < bytes.Length; i++) bytes[i] = Math.Round(bytes[i] * 255);
        Idx.Write(imagesPath, IdxType.UByte, [d.Count, d.Rows, d.Cols], bytes, gzip);
        Idx.Write(labelsPath, IdxType.UByte, [d.Count], d.Labels.Select(l => (double)l).ToArray(), gzip);
    }

    /// <summary>Per-thread scratch: the strokes of one image and its distance and blur buffers.</summary>
    private sealed class Canvas(int size)
    {
        public readonly int Size = size;
        public readonly List<List<(double X, double Y)>> Strokes = [];
        public readonly double[] Distance = new double[size * size];
        public readonly double[] Buffer = new double[size * size];
    }

    /// <summary>
    /// Draws one example from <paramref name="rng"/> into <paramref name="image"/>; returns its label.
    /// </summary>
    private static int Draw(Rng rng, Canvas c, Span<double> image)
    {
        int label = (int)(rng.NextDouble() * 10);
        double unit = c.Size / 28.0;   // pixels per MNIST pixel

        c.Strokes.Clear();
        Template(label, rng, c.Strokes);

        // Smooth random displacement field (two plane waves per coordinate, ~1 cycle per digit height).
        Span<double> wave = stackalloc double[16];
        for (int k = 0; k < 4; k++)
        {
            double angle = 2 * Math.PI * rng.NextDouble(), freq = 0.4 + 0.8 * rng.NextDouble();
            wave[4 * k] = 2 * Math.PI * freq * Math.Cos(angle);
            wave[4 * k + 1] = 2 * Math.PI * freq * Math.Sin(angle);
            wave[4 * k + 2] = 2 * Math.PI * rng.NextDouble();
            wave[4 * k + 3] = 0.03 * rng.NextGaussian();
        }
        foreach (var s in c.Strokes)
            for (int p = 0; p < s.Count; p++)
            {
                var (x, y) = s[p];
                double dx = 0, dy = 0;
                for (int k = 0; k < 4; k++)
                {
                    double v = wave[4 * k + 3] * Math.Sin(wave[4 * k] * x + wave[4 * k + 1] * y + wave[4 * k + 2]);
                    if (k < 2) dx += v; else dy += v;
                }
                s[p] = (x + dx, y + dy);
            }

        // Centre of mass of the strokes (length-weighted), the point put at the image centre.
        double cx = 0, cy = 0, total = 0;
        foreach (var s in c.Strokes)
        {
            for (int p = 1; p < s.Count; p++)
            {
                double len = Math.Sqrt(Sq(s[p].X - s[p - 1].X) + Sq(s[p].Y - s[p - 1].Y));
                cx += len * (s[p].X + s[p - 1].X) / 2; cy += len * (s[p].Y + s[p - 1].Y) / 2; total += len;
            }
        }
        if (total > 0) { cx /= total; cy /= total; } else (cx, cy) = (0.5, 0.5);

        // Affine jitter: scale (with a little aspect change), shear, rotation, shift.
        double scale = 19 * unit * (0.8 + 0.3 * rng.NextDouble());
        double aspect = 0.85 + 0.3 * rng.NextDouble();
        double shear = 0.3 * (2 * rng.NextDouble() - 1);
        double theta = 15 * Math.PI / 180 * (2 * rng.NextDouble() - 1);
        double shiftX = 2 * unit * (2 * rng.NextDouble() - 1), shiftY = 2 * unit * (2 * rng.NextDouble() - 1);
        double cos = Math.Cos(theta), sin = Math.Sin(theta);
        // M = R(θ) · [[1, shear], [0, 1]] · diag(scale·aspect, scale): the shear slants the digit either way.
        double a = scale * aspect, b = shear * scale, d = scale;
        double m00 = cos * a, m01 = cos * b - sin * d, m10 = sin * a, m11 = sin * b + cos * d;
        double ox = c.Size / 2.0 + shiftX, oy = c.Size / 2.0 + shiftY;
        foreach (var s in c.Strokes)
            for (int p = 0; p < s.Count; p++)
            {
                double x = s[p].X - cx, y = s[p].Y - cy;
                s[p] = (ox + m00 * x + m01 * y, oy + m10 * x + m11 * y);
            }

        double radius = unit * (1.5 + 1.5 * rng.NextDouble()) / 2;
        double sigma = unit * (0.4 + 0.4 * rng.NextDouble());

        // Keep the ink inside the image (MNIST digits are never cut off): undo as much of the shift as needed.
        double minX = double.MaxValue, maxX = double.MinValue, minY = double.MaxValue, maxY = double.MinValue;
        foreach (var s in c.Strokes)
            foreach (var (x, y) in s)
            {
                minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
                minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
            }
        double fixX = Inside(minX - radius, maxX + radius, c.Size * 1.0, unit),
            fixY = Inside(minY - radius, maxY + radius, c.Size * 1.0, unit);
        if (fixX != 0 || fixY != 0)
            foreach (var s in c.Strokes)
                for (int p = 0; p < s.Count; p++) s[p] = (s[p].X + fixX, s[p].Y + fixY);
        Rasterise(c, radius);
        Blur(c, sigma, image);

        double max = 0;
        foreach (double v in image) max = Math.Max(max, v);
        for (int i = 0; i < image.Length; i++)
            image[i] = max > 0 ? Math.Round(Math.Clamp(image[i] / max, 0, 1) * 255) / 255.0 : 0;
        return label;
    }

    /// <summary>The shift that moves [lo, hi] inside [margin, size − margin] (centres it when it is wider).</summary>
    private static double Inside(double lo, double hi, double size, double margin)
    {
        double min = margin, max = size - margin;
        if (hi - lo > max - min) return (min + max) / 2 - (lo + hi) / 2;
        return lo < min ? min - lo : hi > max ? max - hi : 0;
    }

    /// <summary>
    /// Pen coverage: 1 within the stroke's half-width, falling linearly to 0 over one pixel at its edge.
    /// </summary>
    private static void Rasterise(Canvas c, double radius)
    {
        int n = c.Size;
        var dist = c.Distance;
        Array.Fill(dist, double.PositiveInfinity);
        double reach = radius + 1;
        foreach (var s in c.Strokes)
            for (int p = 0; p + 1 < s.Count; p++)
            {
                var (x0, y0) = s[p];
                var (x1, y1) = s[p + 1];
                int i0 = Math.Max(0, (int)Math.Floor(Math.Min(y0, y1) - reach - 0.5));
                int i1 = Math.Min(n - 1, (int)Math.Ceiling(Math.Max(y0, y1) + reach - 0.5));
                int j0 = Math.Max(0, (int)Math.Floor(Math.Min(x0, x1) - reach - 0.5));
                int j1 = Math.Min(n - 1, (int)Math.Ceiling(Math.Max(x0, x1) + reach - 0.5));
                double ex = x1 - x0, ey = y1 - y0, len2 = ex * ex + ey * ey;
                for (int i = i0; i <= i1; i++)
                {
                    double py = i + 0.5 - y0;
                    for (int j = j0; j <= j1; j++)
                    {
                        double px = j + 0.5 - x0;
                        double t = len2 > 0 ? Math.Clamp((px * ex + py * ey) / len2, 0, 1) : 0;
                        double d2 = Sq(px - t * ex) + Sq(py - t * ey);
                        ref double slot = ref dist[i * n + j];
                        if (d2 < slot) slot = d2;
                    }
                }
            }
        for (int k = 0; k < dist.Length; k++)
            dist[k] = double.IsPositiveInfinity(dist[k]) ? 0 : Math.Clamp(radius + 0.5 - Math.Sqrt(dist[k]), 0, 1);
    }

    /// <summary>
    /// Separable Gaussian blur of the coverage (in <see cref="Canvas.Distance"/>) into <paramref name="image"/>, zero
    /// outside.
    /// </summary>
    private static void Blur(Canvas c, double sigma, Span<double> image)
    {
        int n = c.Size, r = Math.Max(1, (int)Math.Ceiling(2.5 * sigma));
        Span<double> kernel = stackalloc double[2 * r + 1];
        double sum = 0;
        for (int k = -r; k <= r; k++) sum += kernel[k + r] = Math.Exp(-k * k / (2 * sigma * sigma));
        for (int k = 0; k < kernel.Length; k++) kernel[k] /= sum;
        var src = c.Distance;
        var tmp = c.Buffer;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double v = 0;
                for (int k = Math.Max(-r, -j); k <= Math.Min(r, n - 1 - j); k++)
                    v += kernel[k + r] * src[i * n + j + k];
                tmp[i * n + j] = v;
            }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double v = 0;
                for (int k = Math.Max(-r, -i); k <= Math.Min(r, n - 1 - i); k++)
                    v += kernel[k + r] * tmp[(i + k) * n + j];
                image[i * n + j] = v;
            }
    }

    // ---- the digits ------------------------------------------------------------------------
    // Unit box: x to the right, y down, the digit spanning y ∈ [0, 1] and mostly x ∈ [0.2, 0.8].
    // Angles of arcs are in degrees with y down: 0 right, 90 bottom, 180 left, 270 top.

    private static void Template(int digit, Rng rng, List<List<(double X, double Y)>> strokes)
    {
        double u() => rng.NextDouble();
        switch (digit)
        {
            case 0:
                {
                    double rx = 0.24 + 0.1 * u(), start = 250 + 40 * u();
                    strokes.Add(Arc(0.5, 0.5, rx, 0.48, start, start + 360 + 25 * u()));
                    break;
                }
            case 1:
                {
                    var stem = new List<(double, double)>();
                    if (u() < 0.35) stem.Add((0.32, 0.2 + 0.05 * u()));
                    stem.Add((0.54, 0.0));
                    stem.Add((0.48, 1.0));
                    strokes.Add(Line([.. stem]));
                    if (u() < 0.15) strokes.Add(Line((0.3, 1.0), (0.68, 1.0)));
                    break;
                }
            case 2:
                {
                    double tail = 0.72 + 0.12 * u();
                    if (u() < 0.25)   // with a little loop at the bottom left
                        strokes.Add(Spline((0.2, 0.22), (0.36, 0.04), (0.58, 0.02), (0.75, 0.16), (0.72, 0.38),
                                           (0.5, 0.64), (0.26, 0.9), (0.2, 0.98), (0.3, 0.95), (0.38, 0.86),
                                           (0.36, 0.95), (0.5, 0.98), (tail, 0.96)));
                    else
                        strokes.Add(Spline((0.2, 0.22), (0.36, 0.04), (0.58, 0.02), (0.75, 0.16), (0.72, 0.38),
                                           (0.5, 0.64), (0.28, 0.86), (0.18, 0.98), (0.45, 0.97), (tail, 0.96)));
                    break;
                }
            case 3:
                strokes.Add(Spline((0.22, 0.14), (0.42, 0.02), (0.66, 0.08), (0.68, 0.28), (0.44, 0.47),
                                   (0.68, 0.6), (0.74, 0.8), (0.55, 0.97), (0.3, 0.97), (0.18, 0.86)));
                break;
            case 4:
                if (u() < 0.5)   // closed: a diagonal into the cross bar, the stem from the top
                {
                    strokes.Add(Line((0.62, 0.0), (0.14, 0.66), (0.86, 0.66)));
                    strokes.Add(Line((0.64, 0.02), (0.64, 1.0)));
                }
                else             // open: an L, then the stem
                {
                    strokes.Add(Line((0.24, 0.0), (0.18, 0.6), (0.84, 0.58)));
                    strokes.Add(Line((0.7, 0.04), (0.67, 1.0)));
                }
                break;
            case 5:
                strokes.Add(Line((0.3, 0.03), (0.78, 0.0)));
                strokes.Add(Spline((0.3, 0.03), (0.27, 0.44), (0.48, 0.38), (0.7, 0.48), (0.76, 0.72), (0.58, 0.95),
                                   (0.36, 0.98), (0.2, 0.88)));
                break;
            case 6:
                strokes.Add(Spline((0.7, 0.02), (0.46, 0.16), (0.28, 0.42), (0.22, 0.7), (0.34, 0.94), (0.56, 0.98),
                                   (0.74, 0.82), (0.7, 0.6), (0.5, 0.52), (0.32, 0.6), (0.24, 0.72)));
                break;
            case 7:
                {
                    double x = 0.36 + 0.12 * u(), mid = (0.82 + x) / 2;
                    strokes.Add(Line((0.18, 0.03), (0.82, 0.03), (x, 1.0)));
                    if (u() < 0.25) strokes.Add(Line((mid - 0.17, 0.5), (mid + 0.15, 0.5)));
                    break;
                }
            case 8:
                strokes.Add(Spline((0.68, 0.12), (0.5, 0.02), (0.3, 0.12), (0.32, 0.32), (0.5, 0.46), (0.72, 0.62),
                                   (0.72, 0.88), (0.5, 0.98), (0.28, 0.88), (0.28, 0.62), (0.5, 0.46), (0.68, 0.32),
                                   (0.68, 0.12)));
                break;
            default:
                strokes.Add(Arc(0.48, 0.27, 0.24 + 0.04 * u(), 0.25, -10, 350 + 10 * u()));
                if (u() < 0.5) strokes.Add(Line((0.72, 0.24), (0.68, 1.0)));
                else strokes.Add(Spline((0.72, 0.24), (0.72, 0.55), (0.66, 0.8), (0.58, 1.0)));
                break;
        }
    }

    private static List<(double X, double Y)> Arc(double cx, double cy, double rx, double ry, double fromDeg,
        double toDeg)
    {
        int n = Math.Max(2, (int)Math.Ceiling(Math.Abs(toDeg - fromDeg) / 8));
        var pts = new List<(double, double)>(n + 1);
        for (int k = 0; k <= n; k++)
        {
            double t = (fromDeg + (toDeg - fromDeg) * k / n) * Math.PI / 180;
            pts.Add((cx + rx * Math.Cos(t), cy + ry * Math.Sin(t)));
        }
        return pts;
    }

    /// <summary>
    /// A polyline, each segment cut into pieces of at most 0.12 so the displacement field can bend it.
    /// </summary>
    private static List<(double X, double Y)> Line(params (double X, double Y)[] pts)
    {
        var res = new List<(double, double)> { pts[0] };
        for (int p = 1; p < pts.Length; p++)
        {
            double len = Math.Sqrt(Sq(pts[p].X - pts[p - 1].X) + Sq(pts[p].Y - pts[p - 1].Y));
            int n = Math.Max(1, (int)Math.Ceiling(len / 0.12));
            for (int k = 1; k <= n; k++)
                res.Add((pts[p - 1].X + (pts[p].X - pts[p - 1].X) * k / n,
                    pts[p - 1].Y + (pts[p].Y - pts[p - 1].Y) * k / n));
        }
        return res;
    }

    /// <summary>A uniform Catmull-Rom curve through the points, 5 samples per span.</summary>
    private static List<(double X, double Y)> Spline(params (double X, double Y)[] pts)
    {
        const int per = 5;
        var res = new List<(double, double)>(per * pts.Length) { pts[0] };
        for (int p = 0; p + 1 < pts.Length; p++)
        {
            var p0 = pts[Math.Max(0, p - 1)];
            var p1 = pts[p];
            var p2 = pts[p + 1];
            var p3 = pts[Math.Min(pts.Length - 1, p + 2)];
            for (int k = 1; k <= per; k++)
            {
                double t = (double)k / per, t2 = t * t, t3 = t2 * t;
                double x = 0.5 * (2 * p1.X + (-p0.X + p2.X) * t + (2 * p0.X - 5 * p1.X + 4 * p2.X - p3.X) * t2
                    + (-p0.X + 3 * p1.X - 3 * p2.X + p3.X) * t3);
                double y = 0.5 * (2 * p1.Y + (-p0.Y + p2.Y) * t + (2 * p0.Y - 5 * p1.Y + 4 * p2.Y - p3.Y) * t2
                    + (-p0.Y + 3 * p1.Y - 3 * p2.Y + p3.Y) * t3);
                res.Add((x, y));
            }
        }
        return res;
    }

    private static double Sq(double x) => x * x;
}
