using RichLazyOrleans.Training;

namespace RichLazyOrleans.Training.Tests;

public sealed class FilterGridTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rl-filtergrid-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    // filters, h, w, scale -> columns, rows, gap, width, height
    [InlineData(1, 3, 3, 1, 1, 1, 1, 3, 3)]
    [InlineData(1, 5, 7, 8, 1, 1, 2, 56, 40)]
    [InlineData(2, 5, 5, 8, 2, 1, 2, 82, 40)]
    [InlineData(4, 3, 3, 4, 2, 2, 1, 25, 25)]
    [InlineData(5, 3, 3, 4, 3, 2, 1, 38, 25)]
    [InlineData(10, 2, 3, 4, 4, 3, 1, 51, 26)]
    [InlineData(32, 5, 5, 8, 6, 6, 2, 250, 250)]
    [InlineData(64, 5, 5, 12, 8, 8, 3, 501, 501)]
    [InlineData(17, 1, 1, 3, 5, 4, 1, 19, 15)]
    public void Size_is_a_near_square_grid_with_gaps_between_filters(int filters, int h, int w, int scale, int cols,
        int rows, int gap, int width, int height)
    {
        Assert.Equal((cols, rows), FilterGrid.Layout(filters));
        Assert.Equal(gap, FilterGrid.Gap(scale));
        Assert.Equal(cols * w * scale + (cols - 1) * gap, width);
        Assert.Equal(rows * h * scale + (rows - 1) * gap, height);
        Assert.Equal((width, height), FilterGrid.Size(filters, h, w, scale));
    }

    [Fact]
    public void Layout_is_near_square_for_every_count()
    {
        for (int n = 1; n <= 300; n++)
        {
            var (c, r) = FilterGrid.Layout(n);
            Assert.True(c * r >= n && c * (r - 1) < n, $"{n}: {c}x{r} does not fit or leaves a row empty");
            Assert.True(c >= r && c - r <= 1, $"{n}: {c}x{r} is not near square");
        }
    }

    private static (byte R, byte G, byte B) Pixel(byte[] rgb, int width, int x, int y) =>
        (rgb[(y * width + x) * 3], rgb[(y * width + x) * 3 + 1], rgb[(y * width + x) * 3 + 2]);

    /// <summary>The centre pixel of weight (i, j) of filter f.</summary>
    private static (byte R, byte G, byte B) Weight(byte[] rgb, int filters, int h, int w, int scale, int f, int i,
        int j)
    {
        var (width, _) = FilterGrid.Size(filters, h, w, scale);
        var (cols, _) = FilterGrid.Layout(filters);
        int gap = FilterGrid.Gap(scale);
        int x = f % cols * (w * scale + gap) + j * scale + scale / 2,
            y = f / cols * (h * scale + gap) + i * scale + scale / 2;
        return Pixel(rgb, width, x, y);
    }

    [Fact]
    public void Each_filter_has_its_own_symmetric_diverging_range()
    {
        const int h = 2, w = 2, scale = 4;
        double[] weights =
        [
            -1, 0, 3, 1.5,          // filter 0: max |x| = 3 (positive): 3 pure red, −1 light blue
            -2, 0, 1, 2,            // filter 1: max |x| = 2 on both sides: 2 pure red, −2 pure blue
            -5000, 0, 2500, 5000,   // filter 2: filter 1 × 2500 draws the same colours
            0, 0, 0, 0,             // filter 3: all zero: white
            double.NaN, 1, -4, 0,   // filter 4: NaN grey, −4 pure blue, 1 at a quarter
        ];
        var rgb = FilterGrid.Render(weights, 5, h, w, scale);
        (byte, byte, byte) red = (255, 0, 0), blue = (0, 0, 255), white = (255, 255, 255);

        Assert.Equal(red, Weight(rgb, 5, h, w, scale, 0, 1, 0));
        Assert.Equal(((byte)170, (byte)170, (byte)255), Weight(rgb, 5, h, w, scale, 0, 0, 0));
        Assert.Equal(((byte)255, (byte)128, (byte)128), Weight(rgb, 5, h, w, scale, 0, 1, 1));
        Assert.Equal(white, Weight(rgb, 5, h, w, scale, 0, 0, 1));

        Assert.Equal(blue, Weight(rgb, 5, h, w, scale, 1, 0, 0));
        Assert.Equal(red, Weight(rgb, 5, h, w, scale, 1, 1, 1));
        Assert.Equal(((byte)255, (byte)128, (byte)128), Weight(rgb, 5, h, w, scale, 1, 1, 0));
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++)
            {
                Assert.Equal(Weight(rgb, 5, h, w, scale, 1, i, j), Weight(rgb, 5, h, w, scale, 2, i, j));
                Assert.Equal(white, Weight(rgb, 5, h, w, scale, 3, i, j));
            }

        Assert.Equal(FilterGrid.NaNColour, Weight(rgb, 5, h, w, scale, 4, 0, 0));
        Assert.Equal(((byte)255, (byte)191, (byte)191), Weight(rgb, 5, h, w, scale, 4, 0, 1));
        Assert.Equal(blue, Weight(rgb, 5, h, w, scale, 4, 1, 0));
        Assert.Equal(white, Weight(rgb, 5, h, w, scale, 4, 1, 1));
    }

    [Fact]
    public void Blocks_are_scaled_and_gaps_and_unused_cells_are_light_grey()
    {
        const int filters = 3, h = 2, w = 3, scale = 8;   // 2 × 2 grid, one cell unused; gap 2
        var weights = new double[filters * h * w];
        for (int i = 0; i < weights.Length; i++) weights[i] = i % 2 == 0 ? 1 : -1;
        var rgb = FilterGrid.Render(weights, filters, h, w, scale);
        var (width, height) = FilterGrid.Size(filters, h, w, scale);
        Assert.Equal((2 * 24 + 2, 2 * 16 + 2), (width, height));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int cx = x / (w * scale + 2), cy = y / (h * scale + 2), ox = x % (w * scale + 2),
                    oy = y % (h * scale + 2);
                int f = cy * 2 + cx;
                bool inGap = ox >= w * scale || oy >= h * scale;
                var expected = inGap || f >= filters
                    ? FilterGrid.GapColour
                    : weights[f * h * w + oy / scale * w + ox / scale] > 0
                        ? ((byte)255, (byte)0, (byte)0)
                        : ((byte)0, (byte)0, (byte)255);
                Assert.Equal(expected, Pixel(rgb, width, x, y));
            }
    }

    [Fact]
    public void Infinities_saturate_and_do_not_wash_out_the_rest()
    {
        var rgb = FilterGrid.Render([double.PositiveInfinity, 2, -1, double.NegativeInfinity], 1, 2, 2, 1);
        Assert.Equal([255, 0, 0, 255, 0, 0, 128, 128, 255, 0, 0, 255], rgb);
    }

    [Fact]
    public void WritePng_writes_what_Render_draws()
    {
        var weights = Enumerable.Range(0, 6 * 5 * 5).Select(i => Math.Sin(i * 0.7) * (i % 7)).ToArray();
        string path = Path.Combine(_dir, "filters.png");
        FilterGrid.WritePng(path, weights, 6, 5, 5);
        var img = PngReader.Read(path);
        Assert.Equal(FilterGrid.Size(6, 5, 5, 8), (img.Width, img.Height));
        Assert.Equal(3, img.Channels);
        Assert.Equal(FilterGrid.Render(weights, 6, 5, 5, 8), img.Pixels);
    }

    [Fact]
    public void Bad_arguments_throw_argument_exceptions()
    {
        Assert.ThrowsAny<ArgumentException>(() => FilterGrid.Size(0, 3, 3, 8));
        Assert.ThrowsAny<ArgumentException>(() => FilterGrid.Size(2, 0, 3, 8));
        Assert.ThrowsAny<ArgumentException>(() => FilterGrid.Size(2, 3, 3, 0));
        var e = Assert.ThrowsAny<ArgumentException>(() => FilterGrid.Render(new double[17], 2, 3, 3));
        Assert.Contains("18", e.Message);
        Assert.ThrowsAny<ArgumentException>(() =>
            FilterGrid.WritePng(Path.Combine(_dir, "x.png"), new double[9], 1, 3, 3, scale: -1));
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
