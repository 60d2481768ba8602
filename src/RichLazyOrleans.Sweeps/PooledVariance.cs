namespace RichLazyOrleans.Sweeps;

/// <summary>
/// The seed variance pooled over every point with two or more values (0 when there are none), summed over the
/// points in their order exactly as a scan sums it (floating-point sums depend on the order). The partial sums are
/// kept, so a point's change re-sums from that point on only; points gain values mostly near the end of the list
/// (the newest), so that is short.
/// </summary>
internal sealed class PooledVariance(List<PlannerPoint> points)
{
    private readonly List<double> _squares = [0];   // [i]: the sum over points 0..i-1
    private readonly List<int> _dof = [0];
    private int _valid;   // sums up to _valid are up to date

    public void Changed(int index) => _valid = Math.Min(_valid, index);

    public double Value()
    {
        while (_squares.Count <= points.Count)
        {
            _squares.Add(0);
            _dof.Add(0);
        }
        for (int i = _valid; i < points.Count; i++)
        {
            var p = points[i];
            bool counts = p.Values.Count >= 2;
            _squares[i + 1] = counts ? _squares[i] + p.Own : _squares[i];
            _dof[i + 1] = counts ? _dof[i] + p.Values.Count - 1 : _dof[i];
        }
        _valid = points.Count;
        int dof = _dof[points.Count];
        return dof == 0 ? 0 : _squares[points.Count] / dof;
    }
}
