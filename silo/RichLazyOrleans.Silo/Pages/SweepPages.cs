using RichLazyOrleans.Engine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using Http = Microsoft.AspNetCore.Http.Results;
using RichLazyOrleans.Sweeps;
using static RichLazyOrleans.Silo.Pages.SweepSvg;

namespace RichLazyOrleans.Silo.Pages;

/// <summary>
/// The live sweep pages on the silo's HTTP port: `/sweeps` lists the sweeps, `/sweeps/NAME` shows one, and its script
/// replaces the live part every 2 s from `/sweeps/NAME/live` (no reload) until the sweep ends. Everything is rendered
/// here from the coordinator's status and the files in the results directory (points.parquet, boundary.json,
/// runs/*.parquet), so the page shows what a reader of those files would see. `/sweeps/NAME/status.json` is the same
/// for programs; `/sweeps/NAME/files/FILE` serves the results directory's top-level files.
/// </summary>
public static class SweepPages
{
    public const string Path = "/sweeps";
    /// <summary>Curves drawn: the runs written last.</summary>
    private const int LatestRuns = 10;

    public static void Map(IEndpointRouteBuilder e)
    {
        e.MapGet(Path, ListAsync);
        e.MapGet(Path + "/{name}", PageAsync);
        e.MapGet(Path + "/{name}/live", LiveAsync);
        e.MapGet(Path + "/{name}/status.json", StatusJsonAsync);
        e.MapGet(Path + "/{name}/files/{file}", File);
    }

    private static async Task<IResult> ListAsync(IGrainFactory grains)
    {
        var names = await grains.GetGrain<ISweepRegistryGrain>(0).List();
        var html = new StringBuilder("<h1>Sweeps</h1><table><tr><th>sweep</th><th>state</th><th>done</th>"
            + "<th>running</th><th>waiting</th><th>failed</th><th>points</th></tr>");
        foreach (var name in names.Order())
        {
            var s = await grains.GetGrain<ISweepCoordinatorGrain>(name).GetStatus();
            html.Append($"<tr><td><a href=\"{Path}/{Uri.EscapeDataString(name)}\">{Esc(name)}</a></td>")
                .Append($"<td>{Esc(s.State)}</td><td>{s.Done}</td><td>{s.Running}</td><td>{s.Waiting}</td>")
                .Append($"<td>{s.Failed}</td><td>{s.GridPoints}</td></tr>");
        }
        if (names.Length == 0) html.Append("<tr><td colspan=\"7\">no sweeps on this cluster</td></tr>");
        return Html("Sweeps", html.Append("</table>").ToString(), live: false);
    }

    private static async Task<IResult> PageAsync(string name, string? metric, IGrainFactory grains)
    {
        var status = await grains.GetGrain<ISweepCoordinatorGrain>(name).GetStatus();
        if (status.State == "new") return Http.NotFound($"richlazy: no sweep named '{name}'\n");
        string body = $"<p><a href=\"{Path}\">all sweeps</a></p><h1>{Esc(name)}</h1>"
            + $"<div id=\"live\">{await LiveHtmlAsync(status, metric, "page")}</div>";
        return Html(name, body, live: true);
    }

    private static async Task<IResult> LiveAsync(string name, string? metric, IGrainFactory grains) =>
        Http.Content(await LiveHtmlAsync(await grains.GetGrain<ISweepCoordinatorGrain>(name).GetStatus(), metric,
            "live"), "text/html; charset=utf-8");

    private static async Task<IResult> StatusJsonAsync(string name, IGrainFactory grains)
    {
        var s = await grains.GetGrain<ISweepCoordinatorGrain>(name).GetStatus();
        var view = s.ResultsDir is { } dir ? await SweepView.LoadAsync(dir) : null;
        return Http.Json(new
        {
            sweep = s.SweepId, state = s.State, done = s.Done, running = s.Running, waiting = s.Waiting,
            queued = s.Queued, failed = s.Failed, failures = s.Failures, ignored_lines = s.IgnoredLines,
            grid_points = s.GridPoints,
            points_on_disk = view?.Points.Count ?? 0, boundary_polylines = view?.Boundary.Count ?? 0,
        });
    }

    /// <summary>A top-level file of the results directory (points.parquet, boundary.json, the PNGs, manifest.json,
    /// sweep.yaml); nothing below it and no other name.</summary>
    private static async Task<IResult> File(string name, string file, IGrainFactory grains)
    {
        string[] allowed = [".parquet", ".json", ".png", ".yaml"];
        if (file.Contains('/') || file.Contains('\\') || file.StartsWith('.') || !allowed.Any(file.EndsWith))
            return Http.NotFound();
        var s = await grains.GetGrain<ISweepCoordinatorGrain>(name).GetStatus();
        if (s.ResultsDir is not { } dir) return Http.NotFound();
        string full = System.IO.Path.Combine(dir, file);
        if (!System.IO.File.Exists(full)) return Http.NotFound();
        string type = file.EndsWith(".png") ? "image/png" : file.EndsWith(".json") ? "application/json"
            : "application/octet-stream";
        return Http.File(full, type, file);
    }

    /// <summary>The part of the page that refreshes: progress, the phase estimate, the latest curves, downloads.
    /// </summary>
    /// <param name="servedBy">"page" in the first render, "live" from the refresh (the browser test tells them
    /// apart)</param>
    internal static async Task<string> LiveHtmlAsync(SweepStatus s, string? metric, string servedBy)
    {
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"progress\" data-state=\"{Esc(s.State)}\" ")
            .Append(CultureInfo.InvariantCulture, $"data-points=\"{s.GridPoints}\" data-served=\"{servedBy}\">")
            .Append(CultureInfo.InvariantCulture, $"<b>{Esc(s.State)}</b>: ")
            .Append(CultureInfo.InvariantCulture, $"{s.Done} done, {s.Running} running, {s.Waiting} waiting for a ")
            .Append(CultureInfo.InvariantCulture, $"slot, {s.Queued} queued, {s.Failed} failed; {s.GridPoints} grid ")
            .Append(CultureInfo.InvariantCulture, $"points, depth {s.Depth}/{s.MaxDepth}, {s.ElapsedSeconds:F0} s");
        if (s.Failures is { } why) html.Append("<br/>failed runs: ").Append(Esc(why));
        if (s.IgnoredLines > 0)
            html.Append(CultureInfo.InvariantCulture, $"<br/>{s.IgnoredLines} stdout line(s) were not rows (ignored)");
        if (s.Message is { } m) html.Append("<br/>").Append(Esc(m));
        html.Append("</div>");
        if (s.ResultsDir is not { } dir || await SweepView.LoadAsync(dir) is not { } view)
            return html.Append("<p>no results yet</p>").ToString();
        string shown = metric is not null && view.Metrics.Contains(metric) ? metric : view.RefineMetric;
        html.Append("<h2>Phase diagram: ").Append(Esc(view.RefineMetric)).Append("</h2>")
            .Append(Phase(view.Spec.Axes, view.Raster, view.Points, view.Boundary, view.RefineMetric))
            .Append("<h2>Latest curves: ").Append(Esc(shown)).Append("</h2><p>metric: ");
        foreach (var m2 in view.Metrics)
            html.Append($"<a href=\"?metric={Uri.EscapeDataString(m2)}\">{Esc(m2)}</a> ");
        html.Append("</p>").Append(await view.CurvesSvgAsync(shown, LatestRuns)).Append("<p>download: ");
        foreach (var f in view.Downloads)
            html.Append($"<a href=\"{Path}/{Uri.EscapeDataString(s.SweepId)}/files/{Uri.EscapeDataString(f)}\">")
                .Append(Esc(f)).Append("</a> ");
        return html.Append("</p>").ToString();
    }

    private static IResult Html(string title, string body, bool live)
    {
        // The script asks for the live part again (same query: the chosen metric) until the sweep has ended.
        const string script = """
            <script>
            const live = document.getElementById('live');
            const url = location.pathname.replace(/\/$/, '') + '/live' + location.search;
            async function tick() {
              try { const r = await fetch(url, { cache: 'no-store' }); if (r.ok) live.innerHTML = await r.text(); }
              catch (e) { }
              const s = live.querySelector('[data-state]');
              if (!s || !['complete', 'cancelled', 'failed'].includes(s.dataset.state)) setTimeout(tick, 2000);
            }
            setTimeout(tick, 2000);
            </script>
            """;
        string page = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + Esc(title) + " · richlazy</title>"
            + "<style>body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse}"
            + "td,th{padding:2px 10px;border-bottom:1px solid #ddd}svg{background:#fff;margin:4px 0}"
            + ".progress{font-size:15px}</style></head><body>" + body + (live ? script : "") + "</body></html>";
        return Http.Content(page, "text/html; charset=utf-8");
    }
}
