using RichLazyOrleans.Engine;
using Spectre.Console;
using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy quickstart`: the README's main job, two example sweeps on an embedded silo.</summary>
internal static class QuickstartCommand
{
    /// <summary>`richlazy quickstart`: the README's main job.</summary>
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "output directory",
            DefaultValueFactory = _ => new DirectoryInfo("results/quickstart"),
        };
        var slots = new Option<int>("--slots")
        {
            Description = "device slots of the embedded silo (default: one per core)",
            DefaultValueFactory = _ => SlotPool.DefaultSlots(),
        };
        var cmd = new Command("quickstart",
            "On an embedded silo: an adaptive exact single-neuron phase diagram and a small adaptive "
            + "teacher-student sweep, each with Parquet results and a PNG.")
            { output, slots };
        cmd.SetAction(async (p, ct) =>
        {
            string outDir = p.GetValue(output)!.FullName;
            int k = Math.Max(1, p.GetValue(slots));
            using var host = SiloSetup.BuildEmbedded(k);
            await host.StartAsync(ct);
            var client = host.Services.GetRequiredService<IClusterClient>();
            int code = 0;
            var pictures = new List<string>();
            try
            {
                foreach (var name in new[] { "quickstart-single-neuron", "quickstart-teacher-student" })
                {
                    using var stream = typeof(SweepCommands).Assembly
                        .GetManifestResourceStream($"examples/{name}.yaml")!;
                    string yaml = new StreamReader(stream).ReadToEnd();
                    var spec = SweepSpec.Parse(yaml, KindCatalog.Kinds);
                    string dir = Path.Combine(outDir, name);
                    var status = await SweepRunner.RunOnAsync(client, spec, yaml, dir, k, ct);
                    code = Math.Max(code, SweepRunner.ExitCode(status));
                    if (status.State == "complete") pictures.Add(await ResultsCommands.PlotAsync(dir, null, null, ct));
                }
            }
            finally { await host.StopAsync(CancellationToken.None); }
            foreach (var pic in pictures) Console.WriteLine($"plot: {pic}");
            return code;
        });
        return cmd;
    }
}
