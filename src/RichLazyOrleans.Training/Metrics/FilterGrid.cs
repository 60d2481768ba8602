namespace RichLazyOrleans.Training;

/// <summary>
/// A picture of convolution filters: <c>filters</c> consecutive h × w filters (row-major, as a conv
/// weight [out, 1, h, w] is stored) laid out in a near-square grid (⌈√filters⌉ columns, as many rows
/// as needed, filled row by row), each weight drawn as a <c>scale</c> × <c>scale</c> block.
/// <para>
/// Each filter has its own symmetric colour range ±max|x| over its finite weights, on a diverging map:
/// −max pure blue (0, 0, 255), 0 white, +max pure red (255, 0, 0), linear in between. A filter of
/// zeros is all white; NaN is mid grey (128, 128, 128); ±∞ saturate. Filters are separated by
/// dark-grey (40, 40, 40) gaps of max(1, scale/4) pixels (no outer border); unused grid cells are
/// dark grey too.
/// </para>
/// </summary>
public static class FilterGrid
{
    // Dark gaps: filters are mostly white-to-pale near zero, so light gaps would not separate them.
    public static readonly (byte R, byte G, byte B) GapColour = (40, 40, 40);
    public static readonly (byte R, byte G, byte B) NaNColour = (128, 128, 128);

    /// <summary>Grid columns and rows for <paramref name="filters"/> filters: ⌈√filters⌉ columns.</summary>
    public static (int Columns, int Rows) Layout(int filters)
    {
        if (filters < 1) throw new ArgumentException($"filters must be ≥ 1, got {filters}", nameof(filters));
        int cols = (int)Math.Ceiling(Math.Sqrt(filters));
        while ((long)cols * cols < filters) cols++;          // guard against sqrt rounding
        while (cols > 1 && (long)(cols - 1) * (cols - 1) >= filters) cols--;
        int rows = (filters + cols - 1) / cols;
        return (cols, rows);
    }

    /// <summary>The gap between filters in pixels: max(1, scale/4).</summary>
    public static int Gap(int scale) => Math.Max(1, scale / 4);

    /// <summary>Image size: columns·w·scale + (columns − 1)·gap by rows·h·scale + (rows − 1)·gap.</summary>
    public static (int Width, int Height) Size(int filters, int h, int w, int scale)
    {
        Check(filters, h, w, scale);
        var (cols, rows) = Layout(filters);
        int gap = Gap(scale);
        long width = (long)cols * w * scale + (long)(cols - 1) * gap;
        long height = (long)rows * h * scale + (long)(rows - 1) * gap;
        if (width > 65_535 || height > 65_535)
            throw new ArgumentException(
                $"filter grid of {width}×{height} pixels is too large (at most 65535 a side); use a smaller scale");
        return ((int)width, (int)height);
    }

    /// <summary>The RGB pixels (width·height·3 bytes, rows top to bottom) that <see cref="WritePng"/> writes.</summary>
    public static byte[] Render(ReadOnlySpan<double> weights, int filters, int h, int w, int scale = 8)
    {
        var (width, height) = Size(filters, h, w, scale);
        long need = (long)filters * h * w;
        if (weights.Length != need)
            throw new ArgumentException($"{filters} filters of {h}×{w} need {need} weights, got {weights.Length}",
                nameof(weights));
        var (cols, _) = Layout(filters);
        int gap = Gap(scale);
        var rgb = new byte[checked(width * height * 3)];
        for (int i = 0; i < rgb.Length; i += 3)
        {
            rgb[i] = GapColour.R; rgb[i + 1] = GapColour.G; rgb[i + 2] = GapColour.B;
        }

        for (int f = 0; f < filters; f++)
        {
            var filter = weights.Slice(f * h * w, h * w);
            double max = 0;
            foreach (double x in filter) if (double.IsFinite(x)) max = Math.Max(max, Math.Abs(x));
            int x0 = f % cols * (w * scale + gap), y0 = f / cols * (h * scale + gap);
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    var c = Colour(filter[i * w + j], max);
                    for (int dy = 0; dy < scale; dy++)
                    {
                        int row = (y0 + i * scale + dy) * width;
                        for (int dx = 0; dx < scale; dx++)
                        {
                            int p = (row + x0 + j * scale + dx) * 3;
                            rgb[p] = c.R; rgb[p + 1] = c.G; rgb[p + 2] = c.B;
                        }
                    }
                }
        }
        return rgb;
    }

    /// <summary>Writes the grid as an RGB PNG (atomically, see <see cref="Png"/>).</summary>
    public static void WritePng(string path, ReadOnlySpan<double> weights, int filters, int h, int w, int scale = 8)
    {
        var (width, height) = Size(filters, h, w, scale);
        Png.WriteRgb(path, width, height, Render(weights, filters, h, w, scale));
    }

    /// <summary>
    /// The diverging colour of <paramref name="x"/> on the range ±<paramref name="max"/> (max ≥ 0, finite).
    /// </summary>
    public static (byte R, byte G, byte B) Colour(double x, double max)
    {
        if (double.IsNaN(x)) return NaNColour;
        double v = x == 0 ? 0 : max > 0 && double.IsFinite(x) ? Math.Clamp(x / max, -1, 1) : Math.Sign(x);
        byte fade = (byte)Math.Round(255 * (1 - Math.Abs(v)));
        return v >= 0 ? ((byte)255, fade, fade) : (fade, fade, (byte)255);
    }

    private static void Check(int filters, int h, int w, int scale)
    {
        if (filters < 1) throw new ArgumentException($"filters must be ≥ 1, got {filters}", nameof(filters));
        if (h < 1 || w < 1) throw new ArgumentException($"filter size must be at least 1×1, got {h}×{w}");
        if (scale < 1) throw new ArgumentException($"scale must be ≥ 1, got {scale}", nameof(scale));
    }
}
