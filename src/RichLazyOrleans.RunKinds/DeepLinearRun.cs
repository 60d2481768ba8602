using System.Text.Json.Nodes;
using RichLazyOrleans.Theory;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// `deep-linear`: gradient flow of f(x) = W_L⋯W_1 x, L ≥ 2, with a learning rate per layer, on whitened inputs
/// (`sigma_yx`) or data (`x`, `y`), integrated numerically (<see cref="DeepLinearNumeric"/>). The init is given
/// (`weights`) or drawn (`sizes`, `scale`, `alpha`, `seed`).
/// </summary>
public sealed class DeepLinearRun : IRunKind
{
    public string Name => "deep-linear";
    public IReadOnlyDictionary<string, (double Min, double Max)> Metrics { get; } =
        new Dictionary<string, (double, double)>
        {
            ["kernel_distance"] = (0, 1), ["loss"] = (0, double.PositiveInfinity),
            ["conservation_drift"] = (0, double.PositiveInfinity),
        };
    public IReadOnlySet<string> AxisParameters { get; } = new HashSet<string> { "scale", "alpha" };
    public bool HasSeed => true;
    public string Summary => "gradient flow of a deep linear network W_L...W_1, L >= 2, integrated numerically";
    public IReadOnlyList<SpecKey> Keys { get; } =
    [
        new("sigma_yx", "required (or x + y)", "Σ_yx, c×d matrix, on whitened inputs: loss ½‖β − Σ_yx‖²_F"),
        .. SharedKeys.Data("sigma_yx"),
        new("weights", "required (or sizes)", "the init: a list of L ≥ 2 matrices, W₁ (h₁×d) first, W_L (c×h) last"),
        new("sizes", SpecKey.Optional, "a drawn init instead of weights: [d, h₁, …, c], integers in [1, 4096]; "
            + "entries N(0, scale²/fan_in)"),
        new("scale", "1", "> 0, scale of the drawn init"),
        new("alpha", "1", "> 0, the drawn W₁ is divided by α (α > 1 upstream: small first layer)"),
        new("seed", "0", "seed of the drawn init, integer ≥ 0"),
        new("etas", "1 per layer", "learning rate of each layer, L values > 0"),
        .. SharedKeys.Flow(solver: false),
    ];

    public void Validate(Spec spec) => Parse(spec);

    private sealed record Parsed(LinearData Data, Matrix[] Weights, double[] Etas, double[] Times, double Rtol,
        double Atol);

    private static Parsed Parse(Spec spec)
    {
        var data = Data(spec);
        var weights = spec.Has("weights") ? GivenWeights(spec, data) : DrawnWeights(spec, data);
        double[] etas = spec.Has("etas") ? spec.Vector("etas", weights.Length) : [.. weights.Select(_ => 1.0)];
        if (etas.Any(e => !(e > 0))) throw new SpecException("key 'etas': every learning rate must be > 0");
        var times = spec.Times();
        double rtol = spec.PositiveNumber("rtol", 1e-10), atol = spec.PositiveNumber("atol", 1e-14);
        spec.RejectUnknownKeys();
        return new Parsed(data, weights, etas, times, rtol, atol);
    }

    private static LinearData Data(Spec spec) =>
        DataKeys.Samples(spec, "sigma_yx") ?? LinearData.Whitened(spec.Matrix("sigma_yx"));

    private static Matrix[] GivenWeights(Spec spec, LinearData data)
    {
        if (spec.Array("weights") is not { Count: >= 2 } list)
            throw new SpecException("key 'weights' must be a list of at least 2 matrices, W_1 first");
        var weights = new Matrix[list.Count];
        for (int l = 0; l < list.Count; l++)
        {
            var one = new Spec(new JsonObject { ["w"] = list[l]?.DeepClone() });
            int cols = l == 0 ? data.D : weights[l - 1].Rows;
            int? rows = l == list.Count - 1 ? data.C : null;
            try { weights[l] = one.Matrix("w", rows, cols, l == 0 ? "h1 x d" : "rows x (previous layer's rows)"); }
            catch (SpecException e)
            {
                throw new SpecException($"key 'weights'[{l}]: {e.Message.Replace("key 'w' ", "")}");
            }
        }
        return weights;
    }

    /// <summary>W_l with entries N(0, scale²/fan_in) from the project's generator (stream (seed, l)), W_1 ÷ α.
    /// </summary>
    private static Matrix[] DrawnWeights(Spec spec, LinearData data)
    {
        double[] sizes = spec.Vector("sizes");
        if (sizes.Length < 3) throw new SpecException("key 'sizes' must list d, at least one hidden width, and c");
        if (sizes.Any(s => s != Math.Floor(s) || s < 1 || s > 4096))
            throw new SpecException("key 'sizes': every size must be an integer in [1, 4096]");
        if ((int)sizes[0] != data.D || (int)sizes[^1] != data.C)
            throw new SpecException($"key 'sizes' must start with d = {data.D} and end with c = {data.C}");
        double scale = spec.PositiveNumber("scale", 1.0), alpha = spec.PositiveNumber("alpha", 1.0);
        ulong seed = (ulong)spec.Integer("seed", 0, 0);
        return Enumerable.Range(0, sizes.Length - 1).Select(l =>
        {
            int rows = (int)sizes[l + 1], cols = (int)sizes[l];
            var rng = new Rng(seed, (ulong)l + 1);
            double sd = scale / Math.Sqrt(cols) / (l == 0 ? alpha : 1);
            var entries = Enumerable.Range(0, rows * cols).Select(_ => sd * rng.NextGaussian()).ToArray();
            return new Matrix(rows, cols, entries);
        }).ToArray();
    }

    public IReadOnlyList<JsonObject> Run(Spec spec, Action<string>? log = null, Action<JsonObject>? rowReady = null,
        CancellationToken cancellationToken = default)
    {
        var p = Parse(spec);
        var engine = new DeepLinearNumeric(p.Data, p.Weights, p.Etas)
        {
            Integrator = new DormandPrince45
            {
                RelativeTolerance = p.Rtol, AbsoluteTolerance = p.Atol,
                NoiseFloorSteps = DeepLinearNumeric.NoiseFloorSteps,
            },
        };
        return engine.Solve(p.Times).Select(s => new JsonObject
        {
            ["t"] = s.T,
            ["beta"] = Json.Rows(s.Beta),
            ["loss"] = s.Loss,
            ["kernel_distance"] = s.KernelDistance,
            ["conservation_drift"] = s.ConservationDrift,
        }).ToList();
    }
}
