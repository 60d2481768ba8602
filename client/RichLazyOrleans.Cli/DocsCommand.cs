using RichLazyOrleans.Engine;
using System.CommandLine;
using System.CommandLine.Help;
using System.Text;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Cli;

/// <summary>
/// `richlazy docs spec-keys|cli`: print the generated references (docs/spec-keys.md, docs/cli.md) from the code's own
/// declarations, so the committed files can be rewritten whenever a key or an option changes (a test compares them).
/// </summary>
internal static class DocsCommand
{
    public const string RegenerateCli = "./richlazy docs cli > docs/cli.md";

    /// <summary>Help is laid out at a fixed width, so the file does not depend on the terminal it was made in.
    /// </summary>
    private const int Width = 110;

    public static Command Create()
    {
        var keys = new Command("spec-keys", "Print the run-spec key reference (docs/spec-keys.md) as Markdown");
        keys.SetAction(_ => Print(SpecKeyReference.Markdown(RunKindRegistry.All)));
        var cli = new Command("cli", "Print the command reference (docs/cli.md): every command's --help, as Markdown");
        cli.SetAction(_ => Print(CliMarkdown(CliRoot.Create())));
        return new Command("docs", "Print the generated reference pages of docs/") { keys, cli };
    }

    private static int Print(string text)
    {
        using var stdout = Console.OpenStandardOutput();
        stdout.Write(Encoding.UTF8.GetBytes(text));
        return 0;
    }

    /// <summary>Every visible command's help, depth first, under a heading with its full name.</summary>
    public static string CliMarkdown(RootCommand root)
    {
        var md = new StringBuilder($"""
            # Command reference

            <!-- Generated from the command tree (client/RichLazyOrleans.Cli). Do not edit: regenerate with
                 `{RegenerateCli}`. -->

            Every `richlazy` command with its options, as `--help` prints them. Exit codes: 0 success, 2 bad input
            (one line on stderr naming the key, option or file), 1 any other failure, 130 interrupted (Ctrl+C).
            Most silo and client options also read an environment variable (`RICHLAZY_*`; the list with meanings is
            `silo/RichLazyOrleans.Silo/SiloEnvironment.cs`); docs/cluster.md explains the cluster options, and
            docs/spec-keys.md the keys of `run` specs and sweep `params`.


            """);
        foreach (var option in root.Options)
            if (option is HelpOption { Action: HelpAction action }) action.MaxWidth = Width;
        // The page must not depend on the machine that made it: defaults read from RICHLAZY_* variables are shown as
        // they are without them, and the slot counts (one per core) are left to the options' own words.
        foreach (var name in Environment.GetEnvironmentVariables().Keys.OfType<string>()
                     .Where(n => n.StartsWith("RICHLAZY_", StringComparison.Ordinal)))
            Environment.SetEnvironmentVariable(name, null);
        void Machine(Command command)
        {
            foreach (var option in command.Options)
                if (command.Name is "silo" or "quickstart" && option is Option<int> { Name: "--slots" } slots)
                    slots.DefaultValueFactory = null;
            foreach (var sub in command.Subcommands) Machine(sub);
        }
        Machine(root);
        void Walk(Command command, IReadOnlyList<string> path)
        {
            if (command.Hidden) return;
            var text = new StringWriter();
            root.Parse([.. path, "--help"]).Invoke(new InvocationConfiguration { Output = text });
            string name = string.Join(" ", ["richlazy", .. path]);
            md.Append($"## `{name}`\n\n```text\n{text.ToString().Replace("\r\n", "\n").Trim('\n')}\n```\n\n");
            foreach (var sub in command.Subcommands) Walk(sub, [.. path, sub.Name]);
        }
        Walk(root, []);
        return md.ToString().TrimEnd('\n') + "\n";
    }
}
