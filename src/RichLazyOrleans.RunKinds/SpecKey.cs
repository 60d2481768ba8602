namespace RichLazyOrleans.RunKinds;

/// <summary>
/// One key a run kind accepts (<see cref="IRunKind.Keys"/>): the single declaration that `run --help` and
/// docs/spec-keys.md are generated from, and that a test holds against what the kind's parser reads
/// (<see cref="Spec.ReadKeys"/>), so the reference cannot drift from the code.
/// </summary>
/// <param name="Name">The key as written in a spec.</param>
/// <param name="Default">"required", "optional" (absent means off or not used), or the default value in words.</param>
/// <param name="Description">What it means, with units, range and the keys it goes with.</param>
public sealed record SpecKey(string Name, string Default, string Description)
{
    public const string Required = "required";
    public const string Optional = "optional";
}

/// <summary>Key declarations several kinds share, declared once so their descriptions cannot disagree.</summary>
internal static class SharedKeys
{
    /// <summary>`times` and the numerical integrator's keys of the gradient-flow kinds.</summary>
    public static IReadOnlyList<SpecKey> Flow(bool solver, string rtol = "1e-10", string atol = "1e-14") =>
    [
        new("times", SpecKey.Required, "output times t ≥ 0 (list; one row each); t = 1e9 is the converged state"),
        .. solver
            ? new SpecKey[]
            {
                new("solver", "auto", "auto | exact | numeric: auto takes the exact solution where it applies "
                    + "(λ-balanced init, whitened inputs XᵀX/n = I, both to 1e-9) and the numerical flow otherwise; "
                    + "exact refuses a case it does not cover (exit 2)"),
            }
            : [],
        new("rtol", rtol, "relative tolerance of the Dormand-Prince 5(4) integrator (numerical flow only), > 0"),
        new("atol", atol, "absolute tolerance of the integrator (numerical flow only), > 0"),
    ];

    /// <summary>The data keys of the linear kinds (<see cref="DataKeys"/>).</summary>
    public static IReadOnlyList<SpecKey> Data(string instead) =>
    [
        new("x", SpecKey.Optional, $"inputs, n×d matrix (rows are samples); with `y`, instead of `{instead}`"),
        new("y", SpecKey.Optional, "targets of `x`: n×c matrix, or n values for one output; loss (1/2n)‖Xβᵀ − Y‖²"),
    ];

    /// <summary>The single neuron's init keys (<see cref="SingleNeuronInit"/>).</summary>
    public static IReadOnlyList<SpecKey> NeuronInit { get; } =
    [
        new("a0", "required (or tau)", "initial read-out weight a₀ (scalar); with `w0`"),
        new("w0", "required (or tau)", "initial weight vector w₀ (d values); with `a0`"),
        new("tau", SpecKey.Optional, "τ > 0, overall init scale; with `delta` or `alpha` and `w_dir`, instead of "
            + "`a0`, `w0`: a₀ = τ/α, w₀ = τα·w_dir/‖w_dir‖"),
        new("delta", SpecKey.Optional, "δ = τ²(1/α² − α²), relative layer scale (any real; > 0 upstream, < 0 "
            + "downstream); or `alpha`"),
        new("alpha", SpecKey.Optional, "α > 0, the split of τ between the layers (instead of `delta`)"),
        new("w_dir", SpecKey.Optional, "direction of w₀ (d values, not all zero; normalised)"),
    ];

    /// <summary>The two-layer linear init keys (<see cref="TwoLayerLinearRun.Init"/>).</summary>
    public static IReadOnlyList<SpecKey> TwoLayerInit { get; } =
    [
        new("w1", "required (or tau)", "initial first layer W₁, h×d matrix; with `w2`"),
        new("w2", "required (or tau)", "initial second layer W₂, c×h matrix; with `w1`"),
        new("tau", SpecKey.Optional, "τ > 0: draws a λ-balanced init W₁ = τα·O₁, W₂ = (τ/α)·O₂ (orthonormal O) "
            + "instead of `w1`, `w2`; needs `delta` or `alpha`"),
        new("delta", SpecKey.Optional, "δ = τ²(1/α² − α²) of the drawn init (at rates 1, W₂ᵀW₂ − W₁W₁ᵀ = δI)"),
        new("alpha", SpecKey.Optional, "α > 0 of the drawn init (instead of `delta`)"),
        new("hidden", "min(c, d)", "h, hidden width of the drawn init, integer in [1, min(c, d)]"),
        new("init_seed", "0", "seed of the drawn init's orthonormal directions (integer ≥ 0)"),
    ];
}
