using RichLazyOrleans.Training;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// What one run holds in memory at its peak, estimated from its spec before it starts, so a sweep whose
/// runs cannot fit is refused with the number instead of dying of OutOfMemory (or swapping a shared silo to a
/// crawl) an hour in. Counted: the data as the trainers hold it (managed float64 arrays, their float64 tensors,
/// the copy in the run's dtype), parameters with their gradients and optimizer state, and the activations
/// of one full-batch forward and backward pass. Not counted: TorchSharp's own ~0.2 GB per process, allocator
/// slack. Accurate to within a factor of ~2 on measured peaks (docs: the note on issue 12); meant to catch
/// runs that are 10× too big, not to pack memory tightly.
/// </summary>
public static class RunMemory
{
    private const long F64 = 8;

    /// <summary>The memory this process may use: the machine's, or its container's limit (the GC reads cgroups).
    /// </summary>
    public static long Available => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Refuses (one line, with the estimate) a run that alone needs more than
    /// <paramref name="available"/>.</summary>
    public static void Check(IRunKind kind, Spec spec, long available, string where = "this machine")
    {
        double need = kind.MemoryBytes(spec);
        if (need > available)
            throw new SpecException($"one {kind.Name} run needs about {Format(need)} of memory (estimated from its "
                + $"sizes: data, parameters, activations), more than the {Format(available)} {where} has");
    }

    private static long Elt(bool float32) => float32 ? 4 : 8;

    /// <summary>Full-batch GD on n × d inputs (and n_test for the test loss) with an m-unit hidden layer.</summary>
    public static double TeacherStudent(TeacherStudentConfig c)
    {
        double rows = (double)c.N + c.NTest, elt = Elt(c.Float32);
        double data = rows * c.D * (F64 + F64 + (c.Float32 ? elt : 0));   // managed, float64 tensor, dtype copy
        double activations = rows * c.M * elt * 4;                        // pre-activation, ReLU, their gradients
        double parameters = (double)c.M * (c.D + 1) * (F64 * 2 + elt * 3);   // init kept, weights, grads, drift
        // The tangent kernel is n × n in float64, four at a time: XXᵀ, K₀, K and the second product term.
        // It dominates from n ≈ 4 m: 12.8 GB at n = 20 000 (13.4 GB measured for the whole run).
        double kernels = (double)c.N * c.N * F64 * 4;
        return data + activations + parameters + kernels;
    }

    /// <summary>The largest training set plus the test set, one-hot over s^L positions × v symbols.</summary>
    public static double Rhm(RhmConfig c)
    {
        double rows = (double)c.TrainSizes.Max() + c.TestSize, elt = Elt(c.Float32);
        double inputs = rows * Math.Pow(c.S, c.L) * c.V;
        double data = inputs * (F64 + F64 + elt) + rows * c.Classes * (F64 + F64 + elt);
        double activations = rows * c.Width * (c.HiddenLayers + 1) * elt * 3;
        double inputWidth = Math.Pow(c.S, c.L) * c.V;
        double parameters = (inputWidth * c.Width + (double)c.Width * c.Width * c.HiddenLayers) * elt * 4;  // Adam
        return data + activations + parameters;
    }

    /// <summary>All p² pairs (the evaluation is full-batch), one-hot labels over p classes, a small transformer.
    /// </summary>
    public static double Grokking(GrokkingConfig c)
    {
        double pairs = (double)c.P * c.P, elt = Elt(c.Float32);
        double labels = pairs * c.P * (F64 + F64 + elt);
        double logits = pairs * c.P * elt * 3;   // logits, softmax, their gradient
        // Saved for the backward pass, per pair: 3 tokens (a, b, =) × (~12 d_model residual-stream tensors + ~5 MLP
        // ones); fitted to measured peaks (p = 97: 453 MB, p = 250: 3.96 GB above the runtime's own).
        double perPair = 3 * (12.0 * c.DModel + 5.0 * c.DMlp);
        double activations = pairs * perPair * c.Layers * elt;
        double parameters = ((double)c.P * c.DModel * 2 + c.Layers * (4.0 * c.DModel * c.DModel
            + 2.0 * c.DModel * c.DMlp)) * elt * 4;   // weights, gradients, Adam's two moments
        return labels + logits + activations + parameters;
    }

    /// <summary>
    /// MNIST-sized images: the file's bytes, their float64 copies and the dtype tensor; the empirical-NTK
    /// Jacobian of the probe batch (float64); activations of the evaluation batch.
    /// </summary>
    public static double CnnMnist(CnnMnistConfig c, int trainInFile, int testInFile, int pixels)
    {
        double train = Math.Min(c.TrainSize ?? trainInFile, trainInFile);
        double test = Math.Min(c.TestSize ?? testInFile, testInFile), elt = c.Float32 ? 4 : 8;
        double images = (train + test) * pixels * (1 + F64 + F64 + F64 + elt);
        double k2 = (double)c.Kernel * c.Kernel;
        double parameters = c.Channels1 * (k2 + 1) + c.Channels2 * (c.Channels1 * k2 + 1)
            + (double)c.Channels2 * pixels / 16 * c.Classes + c.Classes;
        double jacobian = (double)c.ProbeSize * c.Classes * parameters * F64;
        double evalRows = Math.Min(1000, Math.Min(c.EvalSize, Math.Max(train, test)));   // evaluated in chunks of 1000
        double activations = evalRows * pixels * (c.Channels1 + c.Channels2 / 4.0) * elt * 3;
        return images + jacobian + activations + parameters * elt * 4;
    }

    /// <summary>Bytes as a person reads them: "3.2 GiB".</summary>
    public static string Format(double bytes) =>
        bytes >= 1L << 40 ? $"{bytes / (1L << 40):F1} TiB"
        : bytes >= 1 << 30 ? $"{bytes / (1 << 30):F1} GiB"
        : bytes >= 1 << 20 ? $"{bytes / (1 << 20):F0} MiB"
        : $"{bytes / 1024:F0} KiB";
}
