using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>
/// What a cnn-mnist checkpoint row measures: loss and accuracy, the empirical NTK over all parameters and its
/// distance from step 0's, the parameter distance and the first-layer filters' smoothness (and their PNG).
/// </summary>
public sealed partial class CnnMnistTrainer
{
    /// <summary>(loss, accuracy) on the first <paramref name="limit"/> examples of a set, in float64, in chunks of 1000
    /// to bound memory.</summary>
    private (double Loss, double Accuracy) Evaluate(Tensor x, Tensor y, int limit)
    {
        using var noGrad = torch.no_grad();
        long n = Math.Min(limit, x.shape[0]);
        double lossSum = 0, correct = 0;
        for (long from = 0; from < n; from += 1000)
        {
            using var scope = torch.NewDisposeScope();
            long len = Math.Min(1000, n - from);
            var logits = Forward(x.narrow(0, from, len)).to_type(ScalarType.Float64);
            var y64 = y.narrow(0, from, len).to_type(ScalarType.Float64);
            lossSum += logits.log_softmax(1).mul(y64).sum().neg().item<double>();
            correct += logits.argmax(1).eq(y64.argmax(1)).sum().item<long>();
        }
        return (lossSum / n, correct / n);
    }

    /// <summary>
    /// The empirical NTK on the probe batch, K[(i,c), (j,c')] = ∇f_c(x_i) · ∇f_c'(x_j) over all
    /// parameters, float64, [probe·classes]²: one forward per probe image, one gradient per logit.
    /// </summary>
    public Tensor EmpiricalNtk()
    {
        using var scope = torch.NewDisposeScope();
        int p = _c.ProbeSize, classes = _c.Classes;
        long nParams = _params.Sum(t => t.numel());
        var jacobian = torch.empty([p * classes, nParams], ScalarType.Float64);
        for (int i = 0; i < p; i++)
        {
            using var inner = torch.NewDisposeScope();
            var logits = Forward(_xProbe.narrow(0, i, 1));
            for (int c = 0; c < classes; c++)
            {
                var grads = torch.autograd.grad([logits[0, c]], _params, retain_graph: c + 1 < classes);
                var row = torch.cat(grads.Select(g => g.flatten().to_type(ScalarType.Float64)).ToList(), 0);
                using (torch.no_grad()) jacobian[i * classes + c].copy_(row);
            }
        }
        return jacobian.matmul(jacobian.t()).MoveToOuterDisposeScope();
    }

    /// <summary>1 − ⟨A, B⟩_F / (‖A‖_F ‖B‖_F), clamped to [0, 2]; 0 for identical directions.</summary>
    public static double KernelDistance(Tensor a, Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        double dot = a.mul(b).sum().item<double>();
        double na = a.square().sum().sqrt().item<double>(), nb = b.square().sum().sqrt().item<double>();
        return Math.Clamp(1 - dot / (na * nb), 0, 2);
    }

    /// <summary>The metrics row of the current parameters (and the filter PNG when asked for).</summary>
    private CnnMnistRow Report(long step, string status, double? trainLoss, long resumedFrom)
    {
        var train = Evaluate(_xTrain, _yTrain, _c.EvalSize);
        var test = Evaluate(_xTest, _yTest, int.MaxValue);
        double kernel;
        using (var kt = EmpiricalNtk()) kernel = KernelDistance(_k0!, kt);
        var now = Export();
        var dist = new Neumaier();
        for (int i = 0; i < _names.Length; i++)
        {
            var a = now[_names[i]];
            for (int j = 0; j < a.Length; j++) dist.Add((a[j] - _theta0[i][j]) * (a[j] - _theta0[i][j]));
        }
        double smooth = FilterSmoothness.LayerScore(now["conv1"], _c.Channels1, _c.Kernel, _c.Kernel,
            _c.SmoothnessCutoff);
        if (_c.FiltersDir is { } filters)
        {
            Directory.CreateDirectory(filters);
            FilterGrid.WritePng(Path.Combine(filters, $"{FiltersPrefix}-{step:D8}.png"), now["conv1"], _c.Channels1,
                _c.Kernel, _c.Kernel);
        }
        return new CnnMnistRow(step, trainLoss ?? train.Loss, train.Accuracy, test.Loss, test.Accuracy, kernel,
            Math.Sqrt(dist.Sum), smooth, status, resumedFrom);
    }
}
