using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>What the TorchSharp backend on this machine offers.</summary>
public sealed record TorchInfo(string TorchSharpVersion, bool CudaAvailable, int CudaDevices, int Threads, double[] AutogradCheck);

/// <summary>TorchSharp's native library could not be loaded; the message says why and what to do.</summary>
public sealed class TorchUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>Loading and checking the TorchSharp backend.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// Loads libtorch, sets the intra-op thread count and runs a tiny autograd computation
    /// (∇ Σ xᵢ³ = 3xᵢ² at x = (1, 2, 3) → (3, 12, 27)), so a broken install fails here with a clear
    /// message instead of deep inside a run.
    /// </summary>
    public static TorchInfo Probe(int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        try
        {
            torch.set_num_threads(threads);
            using var scope = torch.NewDisposeScope();
            var x = torch.tensor(new double[] { 1, 2, 3 }, dtype: ScalarType.Float64, requires_grad: true);
            var y = x.pow(3).sum();
            y.backward();
            var grad = x.grad ?? throw new InvalidOperationException("autograd produced no gradient");
            var version = typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";
            bool cuda = torch.cuda.is_available();
            return new TorchInfo(version, cuda, cuda ? torch.cuda.device_count() : 0, torch.get_num_threads(), grad.data<double>().ToArray());
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            var root = e;
            while (root.InnerException is not null) root = root.InnerException;
            throw new TorchUnavailableException(
                "TorchSharp's native library failed to load (" + root.Message.Split('\n')[0] + "). On Debian 12, libLibTorchSharp.so needs "
                + "GLIBCXX_3.4.32; the build marks that requirement weak after copying the library, so rebuild with 'dotnet build' "
                + "rather than copying binaries from another machine.", e);
        }
    }
}
