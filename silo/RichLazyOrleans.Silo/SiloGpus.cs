using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Text.RegularExpressions;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Silo;

/// <summary>
/// `--gpus 0,1,2,3` or `--gpus all` (`$RICHLAZY_GPUS`): the GPUs a silo gives a slot each. `all` asks the driver
/// (`nvidia-smi -L`); a list is taken as given (device ordinals), so tests can pretend devices on a machine
/// without any (each run sees its own in CUDA_VISIBLE_DEVICES).
/// </summary>
public static partial class SiloGpus
{
    [GeneratedRegex(@"^GPU (\d+):", RegexOptions.Multiline)]
    private static partial Regex NvidiaSmiLine();

    /// <summary>The GPU list, or a one-line <see cref="SpecException"/>; empty for null or "".</summary>
    public static IReadOnlyList<string> Parse(string? value, Func<string?>? listDevices = null)
    {
        if (string.IsNullOrWhiteSpace(value) || value == "none") return [];
        if (value == "all")
        {
            string? listing = (listDevices ?? NvidiaSmi)();
            var found = listing is null ? [] : NvidiaSmiLine().Matches(listing).Select(m => m.Groups[1].Value).ToList();
            return found.Count > 0 ? found
                : throw new SpecException("--gpus all: the driver lists no GPU here (nvidia-smi -L)");
        }
        var gpus = value.Split(',', StringSplitOptions.TrimEntries);
        foreach (var g in gpus)
            if (!int.TryParse(g, out int n) || n < 0)
                throw new SpecException($"--gpus: '{g}' is not a GPU ordinal (0, 1, …); give a list like 0,1 or all");
        if (gpus.Distinct().Count() != gpus.Length) throw new SpecException("--gpus lists a GPU twice");
        return gpus;
    }

    private static string? NvidiaSmi()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("nvidia-smi", "-L") { RedirectStandardOutput = true,
                RedirectStandardError = true })!;
            string output = p.StandardOutput.ReadToEnd();
            return p.WaitForExit(10_000) && p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }   // no driver tools here
    }
}
