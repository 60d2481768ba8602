using RichLazyOrleans.Engine;
using System.Diagnostics;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>Runs the built richlazy.dll as a real process and captures stdout, stderr and the exit code.</summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => RunWithEnv(new Dictionary<string, string>(), args);

    /// <summary>Like <see cref="Run"/>, with these environment variables set for the process.</summary>
    public static Result RunWithEnv(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "richlazy.dll");
        Assert.True(File.Exists(dll), $"richlazy.dll not found next to the tests ({dll})");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("RICHLAZY_DEBUG");
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("richlazy did not finish in 120 s"); }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static string SpecFile(string json)
    {
        string path = Path.Combine(Path.GetTempPath(), $"richlazy-spec-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
