using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RichLazyOrleans.Sweeps;

/// <summary>
/// One sweep axis: a run parameter varied over [From, To], linearly or logarithmically; <paramref name="Integer"/>
/// axes take integer values only (widths, sizes).
/// </summary>
public sealed record Axis(string Name, double From, double To, bool Log, bool Integer = false)
{
    /// <summary>
    /// The parameter value at fraction u ∈ [0, 1] of the axis. The ends are the values as written; a value in
    /// between is a short decimal when the computed one lies within 16 ulp of it (<see cref="AxisValues.Snap"/>:
    /// 10 where exp/log arithmetic gives 10.000000000000011, 0.55 for 0.5499999999999999, so `df[df.lr == 10]`
    /// finds the rows), else the computed value (a few ulp from the exact one). Integer axes round to integers.
    /// </summary>
    public double ValueAt(double u)
    {
        double v = u <= 0 ? From : u >= 1 ? To : AxisValues.Snap(Log
            ? Math.Exp(Math.Log(From) + u * (Math.Log(To) - Math.Log(From)))
            : From + u * (To - From));
        return Integer ? Math.Round(v, MidpointRounding.AwayFromZero) : v;
    }

    /// <summary>The fraction u ∈ [0, 1] of a parameter value (inverse of <see cref="ValueAt"/>, before rounding).
    /// </summary>
    public double FractionOf(double value) => Log
        ? (Math.Log(value) - Math.Log(From)) / (Math.Log(To) - Math.Log(From))
        : (value - From) / (To - From);
}

/// <summary>Adaptive seeds: seed values First .. First + Max − 1; every point gets Min, uncertain points near the
/// boundary more.</summary>
public sealed record AdaptiveSeeds(long First, int Min, int Max);

/// <summary>What refinement looks at and how far it may go.</summary>
/// <param name="Metric">The metric refined on; null for a planner that does not refine and was given none.</param>
/// <param name="Threshold">The level whose boundary is sought; NaN for a planner that does not refine and was given
/// none (see <see cref="SweepSpec.Threshold"/>).</param>
/// <param name="MaxDepth">The finest lattice: spacing initial/2^MaxDepth.</param>
/// <param name="Budget">Most grid points; for a planner that does not refine and was given none, the points it will
/// run.</param>
public sealed record RefineSpec(string? Metric, double Threshold, int MaxDepth, int Budget);

/// <summary>What a run kind reports that a sweep can refine on, and the range of each metric.</summary>
/// <param name="Open">An open kind (`command`): any parameter may be an axis, and its metrics are the names listed in
/// its params' `metrics`.</param>
/// <param name="IntegerAxes">Axis parameters that take integers (widths, sizes): their axes are integer axes.
/// </param>
public sealed record KindInfo(string Name, IReadOnlyDictionary<string, (double Min, double Max)> Metrics,
    IReadOnlySet<string> AxisParameters, bool Open = false, IReadOnlySet<string>? IntegerAxes = null)
{
    /// <summary>The metrics a sweep of this kind with these params may refine on, with their ranges.</summary>
    public IReadOnlyDictionary<string, (double Min, double Max)> MetricsOf(JsonObject parameters) =>
        !Open ? Metrics
        : parameters["metrics"] is JsonArray a
            ? a.Select(n => n is JsonValue v && v.TryGetValue(out string? s) ? s : null).OfType<string>().Distinct()
                .ToDictionary(n => n, _ => (double.NegativeInfinity, double.PositiveInfinity))
            : new Dictionary<string, (double, double)>();
}
