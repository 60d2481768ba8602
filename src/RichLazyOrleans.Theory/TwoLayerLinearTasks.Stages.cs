namespace RichLazyOrleans.Theory;

public sealed partial class TwoLayerLinearTasks
{
    /// <summary>One stage's flow from its starting weights, at times s since the stage's start.</summary>
    private abstract class Stage
    {
        public abstract (Matrix W1, Matrix W2)[] WeightsAt(IReadOnlyList<double> s);
    }

    /// <summary>The exact solution from the stage's start; its factor [W₁ᵀ; W₂]·R gives the weights up to R.</summary>
    private sealed class ExactStage(Matrix sigmaYx, Matrix w1, Matrix w2, double eta1, double eta2) : Stage
    {
        private readonly TwoLayerLinearExact _exact = new(sigmaYx, w1, w2, eta1, eta2);
        private readonly int _d = w1.Cols, _c = w2.Rows, _h = w1.Rows;

        public override (Matrix W1, Matrix W2)[] WeightsAt(IReadOnlyList<double> s) =>
            s.Select(x =>
            {
                var y = _exact.At(x).Factor;
                return (y.Block(0, 0, _d, _h).Transpose(), y.Block(_d, 0, _c, _h));
            }).ToArray();
    }

    /// <summary>Dormand-Prince on the weights from the stage's start; whitened tasks use the two-layer flow, data
    /// with Σ_xx ≠ I the deep engine's flow at L = 2 (same state layout: W₁ then W₂, row-major).</summary>
    private sealed class NumericStage : Stage
    {
        private readonly OdeFunction _flow;
        private readonly double[] _y0;
        private readonly DormandPrince45 _integrator;
        private readonly int _h, _d, _c;

        public NumericStage(LinearData data, Matrix w1, Matrix w2, double eta1, double eta2,
            DormandPrince45 integrator)
        {
            (_h, _d, _c, _integrator) = (w1.Rows, w1.Cols, w2.Rows, integrator);
            _flow = data.IsWhitened(0) ? GradientFlow.TwoLayerLinear(data.SigmaYx, _h, eta1, eta2)
                : new DeepLinearNumeric(data, [w1, w2], [eta1, eta2]).Flow();
            _y0 = [.. w1.Data, .. w2.Data];
        }

        public override (Matrix W1, Matrix W2)[] WeightsAt(IReadOnlyList<double> s)
        {
            var (states, _) = _integrator.Solve(_flow, 0, _y0, s);
            return states.Select(y => (new Matrix(_h, _d, y[..(_h * _d)]), new Matrix(_c, _h, y[(_h * _d)..])))
                .ToArray();
        }
    }
}
