using RichLazyOrleans.Theory;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

public sealed partial class TwoLayerLinearRun
{
    /// <summary>The keys of a drawn init; any of them means the init is drawn, not given as `w1`, `w2`.</summary>
    private static readonly string[] DrawnInitKeys = ["tau", "delta", "alpha", "hidden", "init_seed"];

    /// <summary>
    /// The init: `w1` (h×d) and `w2` (c×h) as given, or λ-balanced from `tau` and `delta` (or `alpha`) by
    /// <see cref="Initialisation.BalancedTwoLayer"/> with `hidden` = h (default min(c, d)) units and orthonormal
    /// directions drawn from the project's generator (seed `init_seed`, default 0). At rates 1 it has Δ = δI with
    /// δ = τ²(1/α² − α²); with rates, η₁W₂ᵀW₂ − η₂W₁W₁ᵀ = τ²(η₁/α² − η₂α²)·I, still λ-balanced.
    /// </summary>
    internal static (Matrix W1, Matrix W2) Init(Spec spec, int d, int c)
    {
        if (!DrawnInitKeys.Any(spec.Has))
        {
            var w1 = spec.Matrix("w1", cols: d, shape: "h x d");
            return (w1, spec.Matrix("w2", c, w1.Rows, "c x h"));
        }
        foreach (var key in new[] { "w1", "w2" })
            if (spec.Has(key))
                throw new SpecException($"key '{key}': give either 'w1' and 'w2' or a drawn init ('tau' with 'delta' "
                    + "or 'alpha', 'hidden', 'init_seed'), not both");
        double tau = spec.PositiveNumber("tau");
        if (spec.Has("delta") && spec.Has("alpha"))
            throw new SpecException("key 'alpha': give either 'delta' or 'alpha', not both");
        if (!spec.Has("delta") && !spec.Has("alpha"))
            throw new SpecException("missing key 'delta' (or 'alpha'): a drawn init needs the relative scale");
        double alpha = spec.Has("alpha") ? spec.PositiveNumber("alpha")
            : Initialisation.Alpha(tau, spec.Number("delta"));
        int limit = Math.Min(c, d);
        int h = (int)spec.Integer("hidden", limit, 1, limit);
        ulong seed = (ulong)spec.Integer("init_seed", 0, 0);
        var rng = new Rng(seed, 1);
        return Initialisation.BalancedTwoLayer(d, h, c, tau, alpha, rng.NextGaussian);
    }
}
