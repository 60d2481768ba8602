using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `implicit-bias`: which interpolant gradient flow reaches on data `x`, `y` (issue 15, part 2; docs/implicit-bias.md).
/// The flow (Dormand-Prince to `t_end`, default 1e9) of a single neuron or a two-layer linear network, against the
/// mirror potential's minimiser, the Frobenius-nearest interpolant to β₀ (lazy limit) and the minimum nuclear-norm
/// interpolant (rich limit). One row.
/// </summary>
public sealed class ImplicitBiasRun : IRunKind
{
    public string Name => "implicit-bias";
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>
        {
            ["potential_gap"] = (0, double.PositiveInfinity), ["l2_distance"] = (0, double.PositiveInfinity),
            ["nuclear_distance"] = (0, double.PositiveInfinity), ["nuclear_excess"] = (0, double.PositiveInfinity),
            ["train_loss"] = (0, double.PositiveInfinity),
            ["null_retention"] = (double.NegativeInfinity, double.PositiveInfinity),
        };
    public IReadOnlyCollection<string> OutputColumns => [.. Metrics.Keys, "sign_flipped"];
    public IReadOnlySet<string> AxisParameters { get; } =
        new HashSet<string> { "tau", "delta", "alpha", "eta_a", "eta_w", "eta1", "eta2", "init_seed" };
    public IReadOnlySet<string> IntegerAxes { get; } = new HashSet<string> { "init_seed" };
    public bool HasSeed => false;
    public string Summary => "which interpolant gradient flow reaches on underdetermined data (n < d); one row";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("model", SpecKey.Required, "single-neuron | two-layer-linear: the network whose flow is followed"),
        new("x", SpecKey.Required, "inputs, n×d matrix with n < d (rows are samples)"),
        new("y", SpecKey.Required, "targets, n×c matrix or n values (c = 1; the neuron needs c = 1)"),
        .. SharedKeys.NeuronInit.Where(k => k.Name is "a0" or "w0" or "w_dir")
            .Select(k => k with { Description = "single-neuron: " + k.Description }),
        new("tau", SpecKey.Optional, "τ > 0, init scale for either model: the neuron's a₀ = τ/α, w₀ = τα·w_dir/‖w_dir‖ "
            + "(instead of a0, w0); the two-layer init drawn λ-balanced (instead of w1, w2)"),
        new("delta", SpecKey.Optional, "δ = τ²(1/α² − α²) of the init from tau (or alpha)"),
        new("alpha", SpecKey.Optional, "α > 0 of the init from tau (instead of delta)"),
        new("eta_a", "1", "single-neuron: learning rate of a, > 0"),
        new("eta_w", "1", "single-neuron: learning rate of w, > 0"),
        .. SharedKeys.TwoLayerInit.Where(k => k.Name is not ("tau" or "delta" or "alpha"))
            .Select(k => k with { Description = "two-layer-linear: " + k.Description }),
        new("eta1", "1", "two-layer-linear: learning rate of W₁, > 0"),
        new("eta2", "1", "two-layer-linear: learning rate of W₂, > 0"),
        new("t_end", "1e9", "> 0, how long the flow runs (its limit is read there)"),
        new("rtol", "1e-12", "relative tolerance of the Dormand-Prince 5(4) integrator, > 0"),
        new("atol", "1e-16", "absolute tolerance of the integrator, > 0"),
    ];

    public void Validate(Spec spec) => Parse(spec);

    private sealed record Parsed(string Model, Matrix X, Matrix Y, Matrix W1, Matrix W2, double Eta1, double Eta2,
        double TEnd, double Rtol, double Atol);

    /// <summary>The model's own init keys; the neuron is carried as W₁ = w₀ᵀ, W₂ = [a₀] with rates (η_w, η_a).
    /// </summary>
    private static Parsed Parse(Spec spec)
    {
        if (!spec.Has("model")) throw new SpecException("missing key 'model' (single-neuron or two-layer-linear)");
        string model = spec.String("model", "", "single-neuron", "two-layer-linear");
        var data = DataKeys.Samples(spec, "sigma_yx")
            ?? throw new SpecException("missing key 'x' (and 'y'): implicit bias is about data with n < d");
        var (x, y) = (data.X!, data.Y!);
        if (x.Rows >= x.Cols)
            throw new SpecException($"key 'x': {x.Rows} samples in d = {x.Cols} leave one interpolant at most; "
                + "implicit bias needs n < d");
        Matrix w1, w2;
        double eta1, eta2;
        if (model == "single-neuron")
        {
            if (y.Cols != 1) throw new SpecException("key 'y': a single neuron has one output; give 'y' as n values");
            var (a0, w0) = SingleNeuronInit.Parse(spec, x.Cols);
            (w1, w2) = (new Matrix(1, w0.Length, w0), new Matrix(1, 1, [a0]));
            (eta1, eta2) = (spec.PositiveNumber("eta_w", 1.0), spec.PositiveNumber("eta_a", 1.0));
        }
        else
        {
            (w1, w2) = TwoLayerLinearRun.Init(spec, x.Cols, y.Cols);
            (eta1, eta2) = (spec.PositiveNumber("eta1", 1.0), spec.PositiveNumber("eta2", 1.0));
        }
        double tEnd = spec.PositiveNumber("t_end", 1e9);
        double rtol = spec.PositiveNumber("rtol", 1e-12), atol = spec.PositiveNumber("atol", 1e-16);
        spec.RejectUnknownKeys();
        return new Parsed(model, x, y, w1, w2, eta1, eta2, tEnd, rtol, atol);
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default)
    {
        var p = Parse(spec);
        var integrator = ImplicitBias.Integrator(p.Rtol, p.Atol);
        var result = p.Model == "single-neuron"
            ? ImplicitBias.Neuron(p.X, p.Y, p.W2.Data[0], p.W1, p.Eta2, p.Eta1, p.TEnd, integrator)
            : ImplicitBias.TwoLayer(p.X, p.Y, p.W1, p.W2, p.Eta1, p.Eta2, p.TEnd, integrator);
        var row = new JsonObject
        {
            ["t"] = p.TEnd,
            ["beta"] = Json.Rows(result.Beta),
            ["beta_potential"] = result.PotentialBeta is { } bp ? Json.Rows(bp) : null,
            ["beta_l2"] = Json.Rows(result.Nearest),
            ["beta_nuclear"] = Json.Rows(result.MinNuclear),
            ["train_loss"] = Json.Number(result.TrainLoss),
            ["potential_gap"] = result.PotentialGap is { } gap ? Json.Number(gap) : null,
            ["l2_distance"] = Json.Number(result.L2Distance),
            ["nuclear_distance"] = Json.Number(result.NuclearDistance),
            ["nuclear_excess"] = Json.Number(result.NuclearExcess),
            ["null_retention"] = result.NullRetention is { } kept ? Json.Number(kept) : null,
        };
        if (result.SignFlipped is { } flipped) row["sign_flipped"] = flipped ? 1 : 0;
        return [row];
    }
}
