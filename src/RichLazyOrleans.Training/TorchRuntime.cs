using TorchSharp;
using static TorchSharp.torch;

namespace RichLazyOrleans.Training;

/// <summary>What the TorchSharp backend on this machine offers.</summary>
public sealed record TorchInfo(string TorchSharpVersion, bool CudaAvailable, int CudaDevices, int Threads,
    double[] AutogradCheck);

/// <summary>TorchSharp's native library could not be loaded; the message says why and what to do.</summary>
public sealed class TorchUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>Loading and checking the TorchSharp backend.</summary>
public static partial class TorchRuntime
{
    /// <summary>
    /// MKL (libtorch's CPU BLAS) picks kernels by the memory alignment of each array, so the same
    /// product can round differently from one allocation to the next: measured here, two identical
    /// runs in one process differed in the 16th digit. MKL's conditional numerical reproducibility
    /// mode (MKL_CBWR=AUTO,STRICT) removes that at no measured cost (0.565 vs 0.584 ms/step). It
    /// must be in the native environment before MKL's first call; .NET's Environment does not
    /// reach native getenv on Unix, hence setenv. A value set by the user is kept.
    /// </summary>
    static TorchRuntime()
    {
        if (Environment.GetEnvironmentVariable("MKL_CBWR") is null && !OperatingSystem.IsWindows())
        {
            Environment.SetEnvironmentVariable("MKL_CBWR", "AUTO,STRICT");
            _ = SetEnv("MKL_CBWR", "AUTO,STRICT", 0);
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setenv",
        StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>
    /// The device a `device` key names: `cpu`, `cuda`/`cuda:N` (refused when TorchSharp sees no CUDA), or `auto` (the
    /// first GPU where there is one; a sweep pins `auto` to the run's slot before this).
    /// </summary>
    public static Device Device(string device)
    {
        if (device == "cpu") return torch.CPU;
        if (device == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (device == "cuda" || device.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new SpecException("device", $"'{device}' requested but TorchSharp reports no CUDA device "
                    + "here (this build ships the CPU libtorch)");
            return new Device(device);
        }
        throw new SpecException("device", $"must be 'cpu', 'auto', 'cuda' or 'cuda:N', got '{device}'");
    }

    /// <summary>Applies the process-wide settings (reproducible BLAS) before any tensor is made.</summary>
    public static void EnsureInitialised() { }

    /// <summary>
    /// Loads libtorch, sets the intra-op thread count and runs a tiny autograd computation
    /// (∇ Σ xᵢ³ = 3xᵢ² at x = (1, 2, 3) → (3, 12, 27)), so a broken install fails here with a clear
    /// message instead of deep inside a run.
    /// </summary>
    public static TorchInfo Probe(int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        EnsureInitialised();
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
            return new TorchInfo(version, cuda, cuda ? torch.cuda.device_count() : 0, torch.get_num_threads(),
                grad.data<double>().ToArray());
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
        {
            var root = e;
            while (root.InnerException is not null) root = root.InnerException;
            throw new TorchUnavailableException(
                "TorchSharp's native library failed to load (" + root.Message.Split('\n')[0] + "). On Debian 12, "
                + "libLibTorchSharp.so needs GLIBCXX_3.4.32; the build marks that requirement weak after copying the "
                + "library, so rebuild with 'dotnet build' rather than copying binaries from another machine.", e);
        }
    }
}
