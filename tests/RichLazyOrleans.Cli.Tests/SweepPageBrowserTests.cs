using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// The live sweep page in a real headless Chromium (Debian's `chromium`, installed by .ci/run; without it the test is
/// skipped): a synthetic sweep runs on the embedded silo with --http-port, the page's script replaces its live part
/// (no reload), the point count grows between two loads, the boundary appears, and a screenshot is kept.
/// </summary>
public partial class SweepPageBrowserTests
{
    private const string Spec = """
        name: browser-page
        kind: synthetic
        params: { c0: 0.1, c1: 0.5, c2: 0.2, width: 0.05, duration_ms: 350 }
        axes:
          tau:   { from: 0.1, to: 10.0, scale: log }
          delta: { from: -1.0, to: 1.0 }
        grid:   { initial: [5, 5] }
        refine: { metric: value, threshold: 0.5, max_depth: 2, budget: 70 }
        """;

    /// <summary>Where the screenshot is kept: $RICHLAZY_TEST_ARTIFACTS, or artifacts/ beside the test assembly.
    /// </summary>
    private static string Artifacts => Environment.GetEnvironmentVariable("RICHLAZY_TEST_ARTIFACTS")
        ?? Path.Combine(AppContext.BaseDirectory, "artifacts");

    private static string? Chromium() =>
        new[] { "chromium", "chromium-browser", "google-chrome" }
            .Select(n => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
                .Select(d => Path.Combine(d, n)).FirstOrDefault(File.Exists))
            .FirstOrDefault(p => p is not null);

    [SkippableFact]
    [Trait("Category", "Browser")]
    public async Task The_page_shows_the_phase_diagram_forming_as_the_sweep_runs()
    {
        string? chromium = Chromium();
        Skip.If(chromium is null, "no chromium (Debian's package; .ci/run installs it)");
        string dir = Directory.CreateTempSubdirectory("richlazy-page-").FullName;
        string spec = Path.Combine(dir, "spec.yaml");
        await File.WriteAllTextAsync(spec, Spec);
        int port = ClusterHarness.FreePort();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "richlazy.dll"), "sweep", "run", spec,
                     "--out", Path.Combine(dir, "out"), "--slots", "2", "--http-port", $"{port}" })
            psi.ArgumentList.Add(a);
        using var sweep = Process.Start(psi)!;
        var stderr = sweep.StandardError.ReadToEndAsync();
        var stdout = sweep.StandardOutput.ReadToEndAsync();
        string page = $"http://127.0.0.1:{port}/sweeps/browser-page";
        try
        {
            using var http = new HttpClient();
            await WaitFor(http, page, s => s["points_on_disk"]!.GetValue<int>() >= 1, sweep);
            string first = Dom(chromium!, page, null);
            Assert.Contains("data-served=\"live\"", first);   // the script fetched /live and replaced the part
            int early = PhasePoints(first);

            await WaitFor(http, page, s => s["points_on_disk"]!.GetValue<int>() > early
                && s["boundary_polylines"]!.GetValue<int>() > 0, sweep);
            Directory.CreateDirectory(Artifacts);
            string shot = Path.Combine(Artifacts, "sweep-page.png");
            string later = Dom(chromium!, page, shot);
            int late = PhasePoints(later);
            Assert.True(late > early, $"points on the page: {early} then {late}");
            Assert.Contains("class=\"boundary\"", later);
            Assert.Contains("class=\"curve\"", later);
            Assert.True(new FileInfo(shot).Length > 10_000, "screenshot missing or empty");
            Console.Error.WriteLine($"sweep page: {early} then {late} points; screenshot {shot}");
        }
        finally
        {
            Assert.True(sweep.WaitForExit(180_000), "the sweep did not finish");
        }
        Assert.True(sweep.ExitCode == 0, await stderr + await stdout);
        Assert.Contains($"live page: {page}", await stderr);
    }

    /// <summary>Polls the page's status.json until <paramref name="ready"/> (or 120 s).</summary>
    private static async Task WaitFor(HttpClient http, string page, Func<JsonObject, bool> ready, Process sweep)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(120); ; await Task.Delay(200))
        {
            Assert.True(DateTime.UtcNow < deadline && !sweep.HasExited, "the page never got there");
            try
            {
                if (JsonNode.Parse(await http.GetStringAsync(page + "/status.json")) is JsonObject s && ready(s))
                    return;
            }
            catch (HttpRequestException) { }   // the silo is still starting
        }
    }

    /// <summary>The DOM after the page's scripts ran for 5 s of virtual time (two refreshes), and a screenshot.
    /// </summary>
    private static string Dom(string chromium, string url, string? screenshot)
    {
        var psi = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--virtual-time-budget=5000", "--window-size=1000,1500" })
            psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(screenshot is null ? "--dump-dom" : $"--screenshot={screenshot}");
        psi.ArgumentList.Add(url);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(90_000), "chromium did not finish");
        if (screenshot is null) return output.Result;
        return Dom(chromium, url, null);   // the screenshot run prints no DOM: load once more for it
    }

    private static int PhasePoints(string dom)
    {
        var m = PointsAttribute().Match(dom);
        Assert.True(m.Success, "no phase diagram on the page");
        return int.Parse(m.Groups[1].Value);
    }

    [GeneratedRegex("class=\"phase\"[^>]*data-points=\"(\\d+)\"")]
    private static partial Regex PointsAttribute();

}
