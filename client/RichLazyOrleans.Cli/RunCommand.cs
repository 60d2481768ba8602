using RichLazyOrleans.Engine;
using System.CommandLine;
using System.Text;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy run KIND --spec FILE.json`: one run, in-process; a JSON array on stdout, nothing else.</summary>
internal static class RunCommand
{
    /// <summary>A `command` program's NaN or Infinity (kept, as in Parquet) printed as the strings "NaN", "Infinity":
    /// JSON has no literal for them.</summary>
    private static readonly System.Text.Json.JsonSerializerOptions NamedFloats = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static Command Create()
    {
        var kind = new Argument<string>("kind")
        {
            Description = "run kind: " + string.Join(", ", RunKindRegistry.All.Select(k => k.Name)),
        };
        var spec = new Option<FileInfo>("--spec")
        {
            Description = "JSON spec file with the run's keys",
            Required = true,
        };
        // The key lists come from the kinds' declarations (IRunKind.Keys), the same ones docs/spec-keys.md is made of.
        var cmd = new Command("run", "Run one configuration in-process and print one JSON object per checkpoint/time "
            + "point.\nKeys: KEY* required, KEY (DEFAULT), bare KEY optional; docs/spec-keys.md explains each.\n"
            + string.Join("\n", RunKindRegistry.All.Select(k =>
                $"  {k.Name}: {k.Summary}.\n" + string.Join("\n", SpecKeyReference.HelpKeys(k, "    ", 100)))))
        {
            kind,
            spec,
        };
        cmd.SetAction(parse =>
        {
            var runKind = RunKindRegistry.Get(parse.GetValue(kind)!);
            string path = parse.GetValue(spec)!.FullName;
            RunMemory.Check(runKind, Spec.Load(path), RunMemory.Available);   // before it allocates, with the number
            // `device: auto` outside a silo: this process has no GPU slot, so the CPU.
            var pinned = new Spec(RunDevice.Pin(runKind, Spec.Load(path).Json, gpu: null));
            var rows = runKind.Run(pinned, line => Console.Error.WriteLine($"richlazy: {line}"));
            // Build the whole document first: a failure mid-way must not leave half an array on stdout.
            var sb = new StringBuilder("[\n");
            for (int i = 0; i < rows.Count; i++)
                sb.Append("  ").Append(rows[i].ToJsonString(NamedFloats)).Append(i + 1 < rows.Count ? ",\n" : "\n");
            sb.Append("]\n");
            using var stdout = Console.OpenStandardOutput();
            stdout.Write(Encoding.UTF8.GetBytes(sb.ToString()));
            return 0;
        });
        return cmd;
    }
}
