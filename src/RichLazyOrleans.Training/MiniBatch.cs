using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>The rows of a training set a minibatch step uses (the whole set when there are no indices).</summary>
internal static class MiniBatch
{
    public static (Tensor X, Tensor Y) Take(Tensor x, Tensor y, Tensor? indices) =>
        indices is null ? (x, y) : (x.index_select(0, indices), y.index_select(0, indices));
}
