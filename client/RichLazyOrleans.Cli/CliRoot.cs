using RichLazyOrleans.Engine;
using System.CommandLine;

namespace RichLazyOrleans.Cli;

/// <summary>The command tree, built in one place so `richlazy docs cli` can document exactly what runs.</summary>
internal static class CliRoot
{
    public static RootCommand Create()
    {
        var root = new RootCommand("richlazy: exact and numerical learning dynamics for lazy/rich regime studies");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(TheoryCommands.Create());
        root.Subcommands.Add(DataCommands.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(SweepCommands.Create());
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(SiloCommand.Create());
        root.Subcommands.Add(ResultsCommands.Plot());
        root.Subcommands.Add(ResultsCommands.Export());
        root.Subcommands.Add(DocsCommand.Create());
        return root;
    }
}
