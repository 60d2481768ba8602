using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Sweeps.Tests;

public class DelaunayTests
{
    /// <summary>The defining property, checked exactly: no point strictly inside any triangle's circumcircle; the
    /// triangles are counter-clockwise and tile the rectangle (areas sum to its area).</summary>
    private static void AssertDelaunay(Delaunay d, long w, long h)
    {
        Int128 twiceArea = 0;
        foreach (var t in d.Triangles)
        {
            var (a, b, c) = (d.Points[t.A], d.Points[t.B], d.Points[t.C]);
            Assert.Equal(1, Delaunay.Orient(a, b, c));
            twiceArea += (Int128)(b.X - a.X) * (c.Y - a.Y) - (Int128)(b.Y - a.Y) * (c.X - a.X);
            foreach (var p in d.Points)
                Assert.True(Delaunay.InCircle(a, b, c, p) <= 0, $"{p} inside the circle of {a} {b} {c}");
        }
        Assert.Equal((Int128)2 * w * h, twiceArea);
    }

    [Theory]
    [InlineData(1, 40, 100, 60)]
    [InlineData(2, 200, 1000, 1000)]
    [InlineData(3, 60, 7, 5)]
    public void Random_points_give_a_Delaunay_tiling(int seed, int n, int w, int h)
    {
        var r = new Random(seed);
        var d = new Delaunay(w, h);
        var seen = new HashSet<(long, long)> { (0, 0), (w, 0), (w, h), (0, h) };
        for (int k = 0; k < n; k++)
        {
            long x = r.Next(w + 1), y = r.Next(h + 1);
            if (seen.Add((x, y))) d.Insert(x, y);
        }
        AssertDelaunay(d, w, h);
    }

    [Fact]
    public void A_full_lattice_with_cocircular_points_and_points_on_the_border_stays_valid()
    {
        var d = new Delaunay(8, 8);
        for (int i = 0; i <= 8; i++)
            for (int j = 0; j <= 8; j++)
                if (!((i == 0 || i == 8) && (j == 0 || j == 8))) d.Insert(i, j);
        AssertDelaunay(d, 8, 8);
        Assert.Equal(2 * 64, d.Triangles.Count);
    }

    [Fact]
    public void Coordinates_past_the_Int128_range_fall_back_to_exact_big_integers()
    {
        long big = 1L << 40;
        Assert.Equal(1, Delaunay.InCircle((0, 0), (big, 0), (0, big), (big / 2, big / 2)));
        Assert.Equal(0, Delaunay.InCircle((0, 0), (big, 0), (big, big), (0, big)));
        Assert.Equal(-1, Delaunay.InCircle((0, 0), (big, 0), (0, big), (big + 1, big + 1)));
    }

    [Fact]
    public void Inserting_an_existing_point_or_one_outside_is_refused()
    {
        var d = new Delaunay(4, 4);
        d.Insert(2, 2);
        Assert.Throws<ArgumentException>(() => d.Insert(2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => d.Insert(5, 1));
    }
}
