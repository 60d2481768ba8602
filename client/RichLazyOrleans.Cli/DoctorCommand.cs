using RichLazyOrleans.Engine;
using System.CommandLine;
using RichLazyOrleans.Training;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy doctor`: checks that the training backend (TorchSharp/libtorch) loads and works here.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads")
        {
            Description = "intra-op threads to configure",
            DefaultValueFactory = _ => 1,
        };
        var cmd = new Command("doctor",
            "Check the training backend: load libtorch, run an autograd step, report CUDA.") { threads };
        cmd.SetAction(parse =>
        {
            Console.WriteLine($".NET {Environment.Version} on "
                + $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, "
                + $"{Environment.ProcessorCount} cores");
            try
            {
                var info = TorchRuntime.Probe(parse.GetValue(threads));
                Console.WriteLine($"TorchSharp {info.TorchSharpVersion}: loaded; threads {info.Threads}; "
                    + $"CUDA {(info.CudaAvailable ? $"available ({info.CudaDevices} device(s))" : "not available")}");
                Console.WriteLine($"autograd check: d/dx sum(x^3) at (1,2,3) = "
                    + $"({string.Join(", ", info.AutogradCheck)}) (expected 3, 12, 27)");
                bool ok = info.AutogradCheck.SequenceEqual([3.0, 12.0, 27.0]);
                Console.WriteLine(ok ? "ok" : "autograd check FAILED");
                return ok ? 0 : 1;
            }
            catch (TorchUnavailableException e)
            {
                Console.Error.WriteLine($"richlazy: {e.Message}");
                return 1;
            }
        });
        return cmd;
    }
}
