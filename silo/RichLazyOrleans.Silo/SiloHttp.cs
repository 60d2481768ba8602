using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Dashboard;
using Orleans.Runtime;
using RichLazyOrleans.Grains;

namespace RichLazyOrleans.Silo;

/// <summary>A silo's HTTP listener: liveness and readiness probes, and the Orleans Dashboard when it is on.</summary>
internal static class SiloHttp
{
    public static void Add(IHostBuilder builder, SiloConfig config, int port)
    {
        builder.ConfigureWebHost(web => web
            .UseKestrel(k => k.Listen(IPAddress.Parse(config.HttpBind), port))
            .ConfigureServices(s => s.AddRouting())
            .Configure(app =>
            {
                app.UseRouting();
                app.UseEndpoints(e =>
                {
                    e.MapGet(SiloEnvironment.LivenessPath, Liveness);
                    e.MapGet(SiloEnvironment.ReadinessPath, Readiness);
                    if (config.Dashboard) e.MapOrleansDashboard(SiloEnvironment.DashboardPath);
                });
            }));
    }

    /// <summary>Liveness: Orleans' own health participants (the silo's watchdog checks) all report healthy.</summary>
    private static IResult Liveness(IEnumerable<IHealthCheckParticipant> participants)
    {
        var since = DateTime.UtcNow.AddMinutes(-1);
        foreach (var p in participants)
            if (!p.CheckHealth(since, out string? reason))
                return Microsoft.AspNetCore.Http.Results.Json(new { status = "unhealthy", component = p.GetType().Name, reason }, statusCode: 503);
        return Microsoft.AspNetCore.Http.Results.Json(new { status = "healthy" });
    }

    /// <summary>Readiness: this silo is an active member of the cluster (not joining, not shutting down).</summary>
    private static IResult Readiness(ISiloStatusOracle oracle, SlotPool slots)
    {
        var status = oracle.CurrentStatus;
        bool ready = status == SiloStatus.Active && !slots.IsStopping;
        return Microsoft.AspNetCore.Http.Results.Json(new { status = status.ToString(), slots = slots.Slots, busy = slots.Busy }, statusCode: ready ? 200 : 503);
    }
}
