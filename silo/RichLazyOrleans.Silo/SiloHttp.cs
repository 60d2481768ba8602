using RichLazyOrleans.Engine;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;
using Orleans.Runtime;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Silo;

/// <summary>
/// A silo's HTTP listener: liveness and readiness probes, and the Orleans Dashboard when it is on. The
/// dashboard shows every grain and lets no one in or out on its own, so beyond loopback it needs a token
/// (`--http-token`) or an explicit `--insecure-http`. The probes stay open: the kubelet cannot send a secret
/// header, and they tell only whether the silo is healthy and how many slots it has.
/// </summary>
public static class SiloHttp
{
    /// <summary>The cookie a browser keeps the token in after opening /dashboard?token=TOKEN once.</summary>
    public const string TokenCookie = "richlazy_token";

    /// <summary>
    /// Refuses (one line) a dashboard served beyond loopback with neither a token nor --insecure-http, and says
    /// who can reach what; null when there is no HTTP listener.
    /// </summary>
    public static string? Exposure(SiloConfig config, int? port)
    {
        if (port is null) return null;
        if (config.HttpToken is { Length: < 16 })
            throw new SpecException("--http-token must be at least 16 characters (e.g. `openssl rand -hex 32`)");
        bool loopback = IPAddress.IsLoopback(BindAddress(config.HttpBind));
        string at = $"http://{config.HttpBind}:{port}";
        if (!config.Dashboard) return $"{at}: {SiloEnvironment.LivenessPath} and {SiloEnvironment.ReadinessPath} only";
        if (config.HttpToken is not null)
            return $"{at}: {SiloEnvironment.DashboardPath} needs the token (Authorization: Bearer, or "
                + $"{SiloEnvironment.DashboardPath}?token=... once in a browser); the probes are open";
        if (loopback) return $"{at}: dashboard on loopback, no token";
        if (!config.InsecureHttp)
            throw new SpecException($"--http-bind {config.HttpBind} serves the dashboard beyond loopback: give "
                + $"--http-token (${SiloEnvironment.HttpToken}) or, on a network you trust, --insecure-http");
        return $"{at}: WARNING --insecure-http: the dashboard is open to anyone who reaches this address";
    }

    public static void Add(IHostBuilder builder, SiloConfig config, int port)
    {
        builder.ConfigureWebHost(web => web
            .UseKestrel(k => k.Listen(BindAddress(config.HttpBind), port))
            .ConfigureServices(s => s.AddRouting())
            .Configure(app =>
            {
                if (AllowedHosts(config) is { } hosts) app.Use((context, next) => CheckHost(context, next, hosts));
                if ((config.Dashboard || PagesServed(config)) && config.HttpToken is { } token)
                    app.Use((context, next) => RequireToken(context, next, token));
                app.UseRouting();
                app.UseEndpoints(e =>
                {
                    e.MapGet(SiloEnvironment.LivenessPath, Liveness);
                    e.MapGet(SiloEnvironment.ReadinessPath, Readiness);
                    if (config.Dashboard) e.MapOrleansDashboard(SiloEnvironment.DashboardPath);
                    if (PagesServed(config)) Pages.SweepPages.Map(e);
                });
            }));
    }

    /// <summary>
    /// The live sweep pages show results and failure reasons: served on loopback, with a token, or with
    /// --insecure-http; a silo bound beyond loopback without either keeps its probes only.
    /// </summary>
    public static bool PagesServed(SiloConfig config) =>
        config.HttpToken is not null || config.InsecureHttp
        || IPAddress.IsLoopback(BindAddress(config.HttpBind));

    /// <summary>`--http-bind`: an IP address, or `localhost` (127.0.0.1); anything else is one line.</summary>
    public static IPAddress BindAddress(string bind) =>
        bind.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(bind, out var ip) ? ip
        : throw new SpecException($"--http-bind must be an IP address (127.0.0.1, 0.0.0.0, ::) or localhost, "
            + $"got '{bind}'");

    /// <summary>
    /// The Host names a listener answers: on loopback, its own names and the configured ones (a page elsewhere whose
    /// name was made to resolve to 127.0.0.1, DNS rebinding, would otherwise read the sweep pages and sweep.yaml's
    /// env values); beyond loopback only the configured ones when some are, else any (the token guards it).
    /// </summary>
    public static IReadOnlySet<string>? AllowedHosts(SiloConfig config, string? configured = null)
    {
        var extra = (configured ?? Environment.GetEnvironmentVariable(SiloEnvironment.HttpHosts) ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(h => h.ToLowerInvariant()).ToList();
        bool loopback = IPAddress.IsLoopback(BindAddress(config.HttpBind));
        if (!loopback && extra.Count == 0) return null;
        return new HashSet<string>(extra.Concat(["localhost", "127.0.0.1", "::1", "[::1]",
            config.HttpBind.ToLowerInvariant()]), StringComparer.Ordinal);
    }

    private static Task CheckHost(HttpContext context, Func<Task> next, IReadOnlySet<string> hosts)
    {
        if (hosts.Contains(context.Request.Host.Host.ToLowerInvariant())) return next();
        context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
        return context.Response.WriteAsync($"richlazy: this listener does not answer to Host "
            + $"'{context.Request.Host.Host}' (add it to {SiloEnvironment.HttpHosts})\n");
    }

    /// <summary>The paths behind the token: the dashboard and the sweep pages.</summary>
    private static bool Protected(PathString path) =>
        path.StartsWithSegments(SiloEnvironment.DashboardPath) || path.StartsWithSegments(Pages.SweepPages.Path);

    /// <summary>
    /// The dashboard's pages and its API calls need the token: as a bearer header (scripts), or as the cookie
    /// set by opening /dashboard?token=TOKEN (a browser; the dashboard's own requests then carry it).
    /// Compared in constant time.
    /// </summary>
    private static Task RequireToken(HttpContext context, Func<Task> next, string token)
    {
        if (!Protected(context.Request.Path)) return next();
        string? given = context.Request.Headers.Authorization.ToString() is { } h && h.StartsWith("Bearer ")
            ? h["Bearer ".Length..].Trim()
            : context.Request.Cookies[TokenCookie];
        string? query = context.Request.Query["token"];
        if (Same(query, token))
        {
            // Keep the token out of the address bar and history: a cookie for the dashboard's path, then a
            // redirect to the same page without it.
            context.Response.Cookies.Append(TokenCookie, token, new CookieOptions
            {
                HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/",   // the dashboard and the sweep pages
                Secure = context.Request.IsHttps,
            });
            context.Response.Redirect(context.Request.PathBase + context.Request.Path);
            return Task.CompletedTask;
        }
        if (Same(given, token)) return next();
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return context.Response.WriteAsync("richlazy: this page needs the silo's --http-token\n");
    }

    private static bool Same(string? given, string token) =>
        given is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given),
            Encoding.UTF8.GetBytes(token));

    /// <summary>Liveness: Orleans' own health participants (the silo's watchdog checks) all report healthy.</summary>
    private static IResult Liveness(IEnumerable<IHealthCheckParticipant> participants)
    {
        var since = DateTime.UtcNow.AddMinutes(-1);
        foreach (var p in participants)
            if (!p.CheckHealth(since, out string? reason))
                return Microsoft.AspNetCore.Http.Results.Json(
                    new { status = "unhealthy", component = p.GetType().Name, reason }, statusCode: 503);
        return Microsoft.AspNetCore.Http.Results.Json(new { status = "healthy" });
    }

    /// <summary>Readiness: this silo is an active member of the cluster (not joining, not shutting down).</summary>
    private static IResult Readiness(ISiloStatusOracle oracle, SlotPool slots)
    {
        var status = oracle.CurrentStatus;
        bool ready = status == SiloStatus.Active && !slots.IsStopping;
        return Microsoft.AspNetCore.Http.Results.Json(
            new { status = status.ToString(), slots = slots.Slots, busy = slots.Busy }, statusCode: ready ? 200 : 503);
    }
}
