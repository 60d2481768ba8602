namespace RichLazyOrleans.Sweeps;

/// <summary>
/// A vertex near any point, for point location: a quadtree of aligned square cells (side 2^level), each holding the
/// first vertex inserted into it. The finest occupied cell around a point holds a vertex close to it, whatever the
/// density of the mesh there; a lookup and an insertion cost one dictionary access per level at most.
/// </summary>
internal sealed class VertexCells
{
    private const int Levels = 63;
    private readonly Dictionary<(int Level, long X, long Y), int> _cells = [];

    public void Add(long x, long y, int vertex)
    {
        // A cell already held means every coarser cell around it is held too (its vertex was added to them).
        for (int level = 0; level < Levels; level++)
            if (!_cells.TryAdd((level, x >> level, y >> level), vertex)) return;
    }

    /// <summary>The vertex of the finest occupied cell around (x, y); the cells must hold a vertex at (0, 0).</summary>
    public int Near(long x, long y)
    {
        for (int level = 0; level < Levels; level++)
            if (_cells.TryGetValue((level, x >> level, y >> level), out int v)) return v;
        throw new InvalidOperationException("no vertex at the origin");
    }
}
