using System.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace RichLazyOrleans.Deploy.Tests;

/// <summary>The repository on disk, plain YAML, and kubectl when the machine has it.</summary>
internal static class Repo
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RichLazyOrleans.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no RichLazyOrleans.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => RootLazy.Value;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathOf(parts));

    /// <summary>Plain YAML (anchors and `&lt;&lt;` merge keys resolved) as dictionaries, lists and strings.</summary>
    public static object? Yaml(string text)
    {
        var deserializer = new DeserializerBuilder().Build();
        return deserializer.Deserialize<object?>(new MergingParser(new Parser(new StringReader(text))));
    }

    public static Dictionary<object, object> Map(object? node, string what) =>
        node as Dictionary<object, object> ?? throw new Xunit.Sdk.XunitException(
            $"{what}: expected a mapping, got {node?.GetType().Name ?? "nothing"}");

    public static Dictionary<object, object>? MapOrNull(Dictionary<object, object> map, string key) =>
        map.TryGetValue(key, out var v) ? v as Dictionary<object, object> : null;

    public static List<object> List(object? node, string what) =>
        node as List<object>
            ?? throw new Xunit.Sdk.XunitException($"{what}: expected a list, got {node?.GetType().Name ?? "nothing"}");

    public static string? Str(Dictionary<object, object> map, string key) =>
        map.TryGetValue(key, out var v) ? v?.ToString() : null;

    // ---- kubectl (optional) ---------------------------------------------------------------------

    private static readonly Lazy<string?> KubectlLazy = new(() =>
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, OperatingSystem.IsWindows() ? "kubectl.exe" : "kubectl");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    });

    public static string? Kubectl => KubectlLazy.Value;

    /// <summary>`kubectl kustomize DIR`, or null where kubectl is missing.
    /// A render that fails where kubectl exists is a test failure.</summary>
    public static string? Kustomize(string relativeDir)
    {
        if (Kubectl is null) return null;
        var psi = new ProcessStartInfo(Kubectl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Root,
        };
        psi.ArgumentList.Add("kustomize");
        psi.ArgumentList.Add(relativeDir);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start kubectl");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"kubectl kustomize {relativeDir} took over 60 s");
        }
        if (p.ExitCode != 0)
            throw new Xunit.Sdk.XunitException(
                $"kubectl kustomize {relativeDir} failed ({p.ExitCode}): {stderr.Result.Trim()}");
        return stdout.Result;
    }
}
