using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Engine;

/// <summary>What a sweep spec may name of each run kind (metrics, axes), for the spec parser: one table, built once
/// from the kinds' own declarations.</summary>
public static class KindCatalog
{
    public static IReadOnlyDictionary<string, KindInfo> Kinds { get; } = RunKindRegistry.All.ToDictionary(
        k => k.Name, k => new KindInfo(k.Name, k.Metrics, k.AxisParameters, k.Open, k.IntegerAxes));

    /// <summary>Parses a sweep spec against the registered kinds (<see cref="SpecException"/> on bad input).
    /// </summary>
    public static SweepSpec Parse(string yaml) => SweepSpec.Parse(yaml, Kinds);

    public static SweepSpec Load(string path) => SweepSpec.Load(path, Kinds);
}
