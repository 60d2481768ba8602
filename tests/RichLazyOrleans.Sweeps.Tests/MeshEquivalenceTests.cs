using RichLazyOrleans.Sweeps.Tests.Reference;

namespace RichLazyOrleans.Sweeps.Tests;

/// <summary>
/// The planner's incremental parts against full recomputations by the code they replaced: the triangle list of the
/// walking, cavity-growing Delaunay (order included, since vertex values sum neighbours in that order), the intervals
/// of the one-axis mesh, and every vertex value, compared bit for bit after each change.
/// </summary>
public class MeshEquivalenceTests
{
    private static List<LatticePoint> Shuffled(Lattice lattice, Random r)
    {
        var corners = Mesh.Corners(lattice);
        var all = new List<LatticePoint>();
        for (int i = 0; i <= lattice.Extent[0]; i++)
            for (int j = 0; j <= (lattice.Dims == 2 ? lattice.Extent[1] : 0); j++)
                if (!corners.Contains(new LatticePoint(i, j))) all.Add(new LatticePoint(i, j));
        return all.OrderBy(_ => r.Next()).ToList();
    }

    /// <summary>Lattice points in random order, or sorted (as <see cref="PhaseEstimate"/> inserts them); a point
    /// inserted twice is refused and leaves the mesh as it was.</summary>
    [Theory]
    [InlineData(1, 9, 9, false)]
    [InlineData(2, 33, 17, false)]
    [InlineData(3, 64, 64, false)]
    [InlineData(4, 5, 120, false)]
    [InlineData(5, 40, 30, true)]
    public void The_triangle_list_is_the_one_a_full_scan_gives(int seed, int w, int h, bool sorted)
    {
        var r = new Random(seed);
        var d = new Delaunay(w, h);
        var reference = new ReferenceDelaunay(w, h);
        var points = Shuffled(new Lattice([w + 1, h + 1], 0), r).Take(1500).ToList();
        if (sorted) points.Sort();
        foreach (var p in points)
        {
            Assert.Equal(reference.Insert(p.I, p.J), d.Insert(p.I, p.J));
            Assert.Equal(reference.Triangles.Select(t => (t.A, t.B, t.C)), d.Triangles.Select(t => (t.A, t.B, t.C)));
            if (r.Next(50) == 0) Assert.Throws<ArgumentException>(() => d.Insert(p.I, p.J));
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 1)]
    [InlineData(4, 2)]
    [InlineData(5, 2)]
    [InlineData(6, 2)]
    public void Vertex_values_are_those_a_full_scan_computes(int seed, int dims)
    {
        var r = new Random(seed);
        var lattice = dims == 1 ? new Lattice([r.Next(2, 6)], r.Next(1, 6)) : new Lattice([4, 3], r.Next(1, 4));
        var mesh = Mesh.For(lattice);
        var reference = ReferenceMesh.For(lattice);
        var values = new VertexValues(mesh);
        var means = new List<double> { double.NaN, double.NaN, double.NaN, double.NaN };
        // Few distinct values, so that neighbours' means are sums of three or more whose order matters.
        double[] palette = [0.1, 0.2, 0.3, 0.7, 1e-17, 1 / 3.0, double.NaN];
        var points = new Queue<LatticePoint>(Shuffled(lattice, r).Take(300));
        for (int step = 0; step < 600; step++)
        {
            if (points.Count > 0 && r.Next(2) == 0)
            {
                var p = points.Dequeue();
                Assert.Equal(reference.Insert(p), mesh.Insert(p));
                values.Inserted();
                while (means.Count < mesh.Count) means.Add(double.NaN);
            }
            else
            {
                int v = r.Next(mesh.Count);
                means[v] = r.Next(4) == 0 ? r.NextDouble() : palette[r.Next(palette.Length)];
                values.SetMean(v, means[v]);
            }
            values.Flush(_ => { });
            var expected = Scan(reference, means);
            for (int v = 0; v < mesh.Count; v++)
                Assert.Equal(BitConverter.DoubleToInt64Bits(expected[v]),
                    BitConverter.DoubleToInt64Bits(values.Values[v]));
            Assert.Equal(MeshSplits.Range(expected), values.Range);
            Assert.Equal(reference.Simplices().Select(s => string.Join(',', s)),
                mesh.SimplexIds().Select(id => string.Join(',', mesh.Simplex(id))));
        }
    }

    /// <summary>The vertex values as the planner computed them before (ReferenceBoundaryPlanner.VertexValues).
    /// </summary>
    private static double[] Scan(ReferenceMesh mesh, List<double> means)
    {
        var values = new double[mesh.Count];
        var neighbours = new List<int>[mesh.Count];
        for (int v = 0; v < values.Length; v++) values[v] = means[v];
        foreach (var s in mesh.Simplices())
            foreach (int a in s)
                foreach (int b in s)
                    if (a != b) (neighbours[a] ??= []).Add(b);
        var estimated = (double[])values.Clone();
        for (int v = 0; v < values.Length; v++)
        {
            if (!double.IsNaN(values[v]) || neighbours[v] is null) continue;
            var known = neighbours[v].Distinct().Select(u => values[u]).Where(x => !double.IsNaN(x)).ToList();
            if (known.Count > 0) estimated[v] = known.Average();
        }
        return estimated;
    }
}
