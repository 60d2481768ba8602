using RichLazyOrleans.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training.Tests;

/// <summary>
/// TorchSharp must load on this machine (on Debian 12 only thanks to the GLIBCXX_3.4.32 fix in
/// Directory.Build.targets) and compute real gradients.
/// </summary>
public class TorchRuntimeTests
{
    [Fact]
    public void Probe_loads_libtorch_and_differentiates()
    {
        var info = TorchRuntime.Probe(threads: 1);
        Assert.Equal([3.0, 12.0, 27.0], info.AutogradCheck);
        Assert.Equal(1, info.Threads);
    }

    [Fact]
    public void Autograd_gradient_of_a_two_layer_loss_matches_the_hand_derived_gradient()
    {
        // L = ½‖W₂W₁X − Y‖²_F / n; ∇W₁ = W₂ᵀ R Xᵀ / n, ∇W₂ = R (W₁X)ᵀ / n with R = W₂W₁X − Y.
        // Process-wide settings (reproducible BLAS) first: tests in this process share libtorch.
        TorchRuntime.EnsureInitialised();
        using var scope = torch.NewDisposeScope();
        var gen = new Random(3);
        double[] Rand(int n) => Enumerable.Range(0, n).Select(_ => gen.NextDouble() - 0.5).ToArray();
        int d = 4, h = 3, c = 2, n = 5;
        var x = torch.tensor(Rand(d * n), [d, n], ScalarType.Float64);
        var y = torch.tensor(Rand(c * n), [c, n], ScalarType.Float64);
        var w1 = torch.tensor(Rand(h * d), [h, d], ScalarType.Float64).requires_grad_();
        var w2 = torch.tensor(Rand(c * h), [c, h], ScalarType.Float64).requires_grad_();
        var r = w2.matmul(w1).matmul(x) - y;
        var loss = 0.5 * r.pow(2).sum() / n;
        loss.backward();

        using (torch.no_grad())
        {
            var rd = r.detach();
            var g1 = w2.detach().t().matmul(rd).matmul(x.t()) / n;
            var g2 = rd.matmul(w1.detach().matmul(x).t()) / n;
            Assert.True((w1.grad! - g1).abs().max().item<double>() < 1e-15);
            Assert.True((w2.grad! - g2).abs().max().item<double>() < 1e-15);
        }
    }
}
