using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>
/// The grokking transformer, in plain tensor ops (row vectors, x·W). Input: the tokens [a, b, =]
/// (vocabulary p + 1, "=" is token p), one-hot. Per position t: x_t = W_E[tok_t] + W_pos[t]. Each of
/// the `layers` blocks adds causal multi-head self-attention (no biases) and a ReLU MLP:
/// <code>
/// h = N₁(x);  q, k, v = hW_Q, hW_K, hW_V split into heads of size d_model/heads
/// x ← x + concat_heads(softmax_{j ≤ i}(q_i·k_j / √d_head) v_j) W_O
/// x ← x + relu(N₂(x) W_in + b_in) W_out + b_out
/// logits = N_f(x_last) W_U      (p classes: the answer at the last position)
/// </code>
/// N is LayerNorm with a learned gain and bias (ε = 1e-5) for pre-LN blocks, or the identity
/// (Nanda et al. 2023, no normalisation; the default).
/// Init from the project's <see cref="Rng"/> (stream (seed, 2)), every matrix N(0, 1/fan_in):
/// W_E rows N(0, 1/d_model)/α (the embedding's init divided by α), W_pos N(0, 1/d_model),
/// biases 0, LayerNorm gains 1 and biases 0.
/// </summary>
public sealed class GrokkingModel : IDisposable
{
    private const double LnEps = 1e-5;
    private readonly GrokkingConfig _c;
    private readonly Tensor _causal;   // [3, 3], true above the diagonal (masked)

    /// <summary>Parameters in a fixed order (names match <see cref="Shapes"/>).</summary>
    public IReadOnlyList<Tensor> Parameters { get; }
    public IReadOnlyList<string> Names { get; }
    public ScalarType DType { get; }
    public Device Device { get; }

    public GrokkingModel(GrokkingConfig c, Device device)
    {
        _c = c;
        Device = device;
        DType = c.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        var shapes = Shapes(c);
        Names = shapes.Select(s => s.Name).ToArray();
        var init = Init(c);
        Parameters = shapes.Select(s => torch.tensor(init[s.Name], s.Shape, ScalarType.Float64, device).to_type(DType)
            .requires_grad_(true).DetachFromDisposeScope()).ToArray();
        _causal = torch.ones(3, 3, ScalarType.Bool, device).triu(1).DetachFromDisposeScope();
    }

    /// <summary>Names and shapes of the parameters, in order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Shapes(GrokkingConfig c)
    {
        int d = c.DModel, v = c.Vocab, m = c.DMlp;
        var list = new List<(string, long[])> { ("W_E", [v, d]), ("W_pos", [3, d]) };
        for (int l = 0; l < c.Layers; l++)
        {
            if (c.LayerNorm) { list.Add(($"ln1_g.{l}", [d])); list.Add(($"ln1_b.{l}", [d])); }
            list.Add(($"W_Q.{l}", [d, d])); list.Add(($"W_K.{l}", [d, d]));
            list.Add(($"W_V.{l}", [d, d])); list.Add(($"W_O.{l}", [d, d]));
            if (c.LayerNorm) { list.Add(($"ln2_g.{l}", [d])); list.Add(($"ln2_b.{l}", [d])); }
            list.Add(($"W_in.{l}", [d, m])); list.Add(($"b_in.{l}", [m]));
            list.Add(($"W_out.{l}", [m, d])); list.Add(($"b_out.{l}", [d]));
        }
        if (c.LayerNorm) { list.Add(("lnf_g", [d])); list.Add(("lnf_b", [d])); }
        list.Add(("W_U", [d, c.P]));
        return list;
    }

    /// <summary>The initial parameters as float64 arrays (row-major), from the seed alone.</summary>
    public static Dictionary<string, double[]> Init(GrokkingConfig c)
    {
        var rng = new Rng(c.Seed, 2);
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in Shapes(c))
        {
            long n = shape.Aggregate(1L, (a, b) => a * b);
            var a = new double[n];
            string kind = name.Split('.')[0];
            if (kind is "ln1_g" or "ln2_g" or "lnf_g") Array.Fill(a, 1.0);
            else if (kind is "ln1_b" or "ln2_b" or "lnf_b" or "b_in" or "b_out") { }
            else
            {
                // Embeddings: fan-in d_model by convention; matrices: their first dimension.
                double std = kind is "W_E" or "W_pos" ? 1 / Math.Sqrt(c.DModel) : 1 / Math.Sqrt(shape[0]);
                if (kind == "W_E") std /= c.Alpha;
                for (long i = 0; i < n; i++) a[i] = std * rng.NextGaussian();
            }
            result[name] = a;
        }
        return result;
    }

    /// <summary>One-hot inputs [n, 3, p + 1] for the pairs (a_i, b_i).</summary>
    public Tensor OneHot(int[] a, int[] b)
    {
        int n = a.Length, v = _c.Vocab;
        var x = new double[n * 3 * v];
        for (int i = 0; i < n; i++)
        {
            x[(i * 3 + 0) * v + a[i]] = 1;
            x[(i * 3 + 1) * v + b[i]] = 1;
            x[(i * 3 + 2) * v + _c.P] = 1;
        }
        return torch.tensor(x, [n, 3, v], ScalarType.Float64, Device).to_type(DType);
    }

    /// <summary>Logits [n, p] at the last position for one-hot inputs [n, 3, p + 1].</summary>
    public Tensor Forward(Tensor oneHot)
    {
        var P = Parameters.Select((t, i) => (Names[i], t)).ToDictionary(x => x.Item1, x => x.t);
        long n = oneHot.shape[0];
        int d = _c.DModel, h = _c.Heads, dh = _c.HeadDim;
        Tensor Norm(Tensor x, string g, string b) =>
            _c.LayerNorm ? torch.nn.functional.layer_norm(x, [d], P[g], P[b], LnEps) : x;
        var x = oneHot.matmul(P["W_E"]) + P["W_pos"];   // [n, 3, d]
        double scale = 1 / Math.Sqrt(dh);
        for (int l = 0; l < _c.Layers; l++)
        {
            var hn = Norm(x, $"ln1_g.{l}", $"ln1_b.{l}");
            Tensor Heads(Tensor t) => t.view(n, 3, h, dh).transpose(1, 2);   // [n, h, 3, dh]
            var q = Heads(hn.matmul(P[$"W_Q.{l}"]));
            var k = Heads(hn.matmul(P[$"W_K.{l}"]));
            var v = Heads(hn.matmul(P[$"W_V.{l}"]));
            var scores = q.matmul(k.transpose(-2, -1)).mul(scale).masked_fill(_causal, double.NegativeInfinity);
            var z = scores.softmax(-1).matmul(v).transpose(1, 2).reshape(n, 3, d);
            x = x + z.matmul(P[$"W_O.{l}"]);
            var h2 = Norm(x, $"ln2_g.{l}", $"ln2_b.{l}");
            x = x + (h2.matmul(P[$"W_in.{l}"]) + P[$"b_in.{l}"]).relu().matmul(P[$"W_out.{l}"]) + P[$"b_out.{l}"];
        }
        var last = x.select(1, 2);   // [n, d]
        return Norm(last, "lnf_g", "lnf_b").matmul(P["W_U"]);
    }

    /// <summary>The parameters as float64 arrays by name (exact for float32 too).</summary>
    public Dictionary<string, double[]> Export() => NamedParameters.Export(Names, Parameters);

    /// <summary>Sets the parameters from float64 arrays by name.</summary>
    public void Load(IReadOnlyDictionary<string, double[]> values) => NamedParameters.Load(Names, Parameters, values);

    public void Dispose()
    {
        foreach (var t in Parameters) t.Dispose();
        _causal.Dispose();
    }
}
