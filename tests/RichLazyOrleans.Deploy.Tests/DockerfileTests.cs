using System.Text.Json;
using System.Xml.Linq;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Deploy.Tests;

/// <summary>deploy/Dockerfile: a build stage that publishes the CLI, an Ubuntu 24.04 runtime.</summary>
public class DockerfileTests
{
    internal sealed record Instruction(string Keyword, string Arguments);
    internal sealed record Stage(string Image, string? Name, List<Instruction> Instructions);

    /// <summary>Stages of a Dockerfile: comments dropped, continuation lines joined.</summary>
    internal static List<Stage> Parse(string text)
    {
        var stages = new List<Stage>();
        var logical = new List<string>();
        var current = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (current.Length == 0 && line.TrimStart().StartsWith('#')) continue;
            if (line.EndsWith('\\')) { current += line[..^1] + " "; continue; }
            current += line;
            if (current.Trim().Length > 0) logical.Add(current.Trim());
            current = "";
        }
        if (current.Trim().Length > 0) logical.Add(current.Trim());

        foreach (var l in logical)
        {
            int space = l.IndexOf(' ');
            var keyword = (space < 0 ? l : l[..space]).ToUpperInvariant();
            var args = space < 0 ? "" : l[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                var words = args.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                    .Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                stages.Add(new Stage(words[0],
                    words.Count >= 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2] : null,
                    []));
            }
            else if (stages.Count > 0) stages[^1].Instructions.Add(new Instruction(keyword, args));
            else Assert.Fail($"`{keyword}` before the first FROM");
        }
        return stages;
    }

    private static readonly Lazy<List<Stage>> StagesLazy = new(() => Parse(Repo.Read("deploy", "Dockerfile")));

    private static Stage Runtime => StagesLazy.Value[^1];

    private static string[] JsonArray(string args, string what)
    {
        try { return JsonSerializer.Deserialize<string[]>(args) ?? []; }
        catch (JsonException) { throw new Xunit.Sdk.XunitException($"{what} is not in JSON (exec) form: {args}"); }
    }

    [Fact]
    public void Runtime_stage_is_ubuntu_noble_aspnet_non_root_and_runs_richlazy()
    {
        Assert.True(StagesLazy.Value.Count >= 2, "expected a multi-stage build");
        var image = Runtime.Image;
        Assert.Matches(@"^mcr\.microsoft\.com/dotnet/aspnet:10\.0[^ ]*-noble", image);   // Ubuntu 24.04

        var users = Runtime.Instructions.Where(i => i.Keyword == "USER").ToList();
        Assert.NotEmpty(users);
        var user = users[^1].Arguments.Split(':')[0];
        Assert.DoesNotContain(user, new[] { "root", "0" });
        Assert.Contains(user, new[] { "app", "1654" });   // the .NET images' non-root user; the pods pin runAsUser 1654
        // Nothing runs as root after the last USER.
        int lastUser = Runtime.Instructions.LastIndexOf(users[^1]);
        Assert.DoesNotContain(Runtime.Instructions.Skip(lastUser + 1), i => i.Keyword == "RUN");

        var entrypoint =
            JsonArray(Assert.Single(Runtime.Instructions, i => i.Keyword == "ENTRYPOINT").Arguments, "ENTRYPOINT");
        Assert.Equal(["dotnet", "/app/richlazy.dll"], entrypoint);
        var cmd = JsonArray(Assert.Single(Runtime.Instructions, i => i.Keyword == "CMD").Arguments, "CMD");
        Assert.Equal(["silo"], cmd);

        // libtorch needs libgomp1; apt lists are removed in the same layer.
        var install =
            Assert.Single(Runtime.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("apt-get install"));
        Assert.Contains("libgomp1", install.Arguments);
        Assert.Contains("rm -rf /var/lib/apt/lists", install.Arguments);

        // The runtime copies the published app from the build stage into /app.
        var copy = Assert.Single(Runtime.Instructions, i =>
            i.Keyword == "COPY" && i.Arguments.StartsWith("--from=", StringComparison.Ordinal));
        Assert.EndsWith("/app", copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]);
    }

    [Fact]
    public void Build_stage_publishes_the_cli_whose_assembly_is_richlazy_dll()
    {
        var build = StagesLazy.Value[0];
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", build.Image);
        var publish =
            Assert.Single(build.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish"));
        const string project = "client/RichLazyOrleans.Cli/RichLazyOrleans.Cli.csproj";
        Assert.Contains($"dotnet publish {project} -c Release -o /app", publish.Arguments);
        Assert.DoesNotContain(".sln", publish.Arguments);

        var csproj = XDocument.Load(Repo.PathOf(project.Split('/')));
        // so the output is /app/richlazy.dll
        Assert.Equal("richlazy", csproj.Descendants("AssemblyName").Single().Value);

        // Every path the build copies from the context exists (and no test project is needed).
        foreach (var copy in build.Instructions.Where(i => i.Keyword == "COPY"))
        {
            var words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
            foreach (var src in words.Take(words.Count - 1))
            {
                Assert.True(File.Exists(Repo.PathOf(src.TrimEnd('/')))
                    || Directory.Exists(Repo.PathOf(src.TrimEnd('/'))), $"COPY {src}: not in the repository");
                Assert.False(src.StartsWith("tests", StringComparison.Ordinal), "the image does not need the tests");
            }
        }
        // What the CLI's project graph needs is copied: every directory its projects live in.
        var copied = string.Join(" ", build.Instructions.Where(i => i.Keyword == "COPY").Select(i => i.Arguments));
        foreach (var needed in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props",
            "src/", "silo/", "client/" })
            Assert.Contains(needed, copied);
        foreach (var reference in ProjectClosure(Repo.PathOf(project.Split('/'))))
        {
            var relative = Path.GetRelativePath(Repo.Root, reference).Replace('\\', '/');
            Assert.True(new[] { "src/", "silo/", "client/" }.Any(d => relative.StartsWith(d, StringComparison.Ordinal)),
                $"{relative} is referenced by the CLI but not copied");
        }
    }

    [Fact]
    public void Image_exposes_the_silo_default_ports()
    {
        var exposed = Runtime.Instructions.Where(i => i.Keyword == "EXPOSE")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0])).Order().ToArray();
        Assert.Equal(new[] { SiloEnvironment.DefaultSiloPort, SiloEnvironment.DefaultGatewayPort,
            SiloEnvironment.DefaultHttpPort }.Order(), exposed);
    }

    [Fact]
    public void Docker_ignore_beside_the_dockerfile_keeps_build_outputs_out()
    {
        // BuildKit reads deploy/Dockerfile.dockerignore for `docker build -f deploy/Dockerfile .`.
        var lines = Repo.Read("deploy", "Dockerfile.dockerignore").Split('\n').Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var pattern in new[] { "**/bin/", "**/obj/", ".git/" })
            Assert.Contains(pattern, lines);
    }

    [Fact]
    public void Parser_joins_continuations_and_splits_stages()
    {
        var stages = Parse("# c\nFROM a:1 AS b\nRUN x \\\n  y\nFROM --platform=linux/amd64 c:2\nUSER app\n");
        Assert.Equal(2, stages.Count);
        Assert.Equal(("a:1", "b"), (stages[0].Image, stages[0].Name));
        Assert.Equal("x    y", stages[0].Instructions.Single().Arguments);
        Assert.Equal("c:2", stages[1].Image);
        Assert.Equal(new Instruction("USER", "app"), stages[1].Instructions.Single());
    }

    /// <summary>The csproj and every project it references, transitively.</summary>
    private static HashSet<string> ProjectClosure(string csproj)
    {
        var seen = new HashSet<string>();
        var queue = new Queue<string>([Path.GetFullPath(csproj)]);
        while (queue.Count > 0)
        {
            var p = queue.Dequeue();
            if (!seen.Add(p)) continue;
            foreach (var r in XDocument.Load(p).Descendants("ProjectReference"))
                queue.Enqueue(Path.GetFullPath(
                    Path.Combine(Path.GetDirectoryName(p)!, r.Attribute("Include")!.Value.Replace('\\', '/'))));
        }
        return seen;
    }
}
