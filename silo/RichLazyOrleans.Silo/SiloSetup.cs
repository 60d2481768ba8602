using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;

namespace RichLazyOrleans.Silo;

/// <summary>What every RichLazyOrleans silo needs, and the embedded single-process host.</summary>
public static class SiloSetup
{
    /// <summary>Adds this silo's device slots and registers them with the cluster once the silo is up.</summary>
    public static ISiloBuilder AddRichLazy(this ISiloBuilder silo, int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        silo.Services.AddSingleton(new SlotPool(slots));
        silo.AddStartupTask(async (services, _) =>
        {
            // Pay the one-time JIT and reflection cost of the result writers at start-up, not in
            // the middle of the first sweep.
            var warm = new[] { new Results.ResultRow { RunId = "warm-up" } };
            await Parquet.Serialization.ParquetSerializer.SerializeAsync(warm, new MemoryStream());
            System.Text.Json.JsonSerializer.Deserialize<List<Results.ResultRow>>(System.Text.Json.JsonSerializer.Serialize(warm));

            var self = services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString();
            await services.GetRequiredService<IGrainFactory>().GetGrain<ISlotRegistryGrain>(0).Register(self, slots);
        });
        return silo;
    }

    /// <summary>
    /// An in-process silo (with its co-hosted client) on loopback only, on free ports so several
    /// sweeps on one machine do not collide. Logging goes to stderr at warning level and above.
    /// </summary>
    public static IHost BuildEmbedded(int slots, LogLevel logLevel = LogLevel.Warning) =>
        BuildLocal(slots, FreeLoopbackPort(), FreeLoopbackPort(), logLevel);

    /// <summary>A single local silo on loopback with fixed ports (`richlazy silo`): clients reach its gateway.</summary>
    public static IHost BuildLocal(int slots, int siloPort, int gatewayPort, LogLevel logLevel = LogLevel.Warning) =>
        Build(slots, silo => silo.UseLocalhostClustering(siloPort, gatewayPort), logLevel);

    /// <summary>
    /// A silo of a cluster whose membership lives in Redis (`richlazy silo --redis HOST:PORT`).
    /// Endpoints bind to <paramref name="advertise"/> (loopback unless configured otherwise).
    /// </summary>
    public static IHost BuildRedis(int slots, string redis, int siloPort, int gatewayPort, IPAddress? advertise = null, LogLevel logLevel = LogLevel.Warning) =>
        Build(slots, silo => silo
            .UseRedisClustering(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis))
            .Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = ClusterId; o.ServiceId = ClusterId; })
            .ConfigureEndpoints(advertise ?? IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false), logLevel);

    /// <summary>Cluster and service id shared by every silo and client of a RichLazyOrleans cluster.</summary>
    public const string ClusterId = "richlazy";

    private static IHost Build(int slots, Action<ISiloBuilder> clustering, LogLevel logLevel)
    {
        return Host.CreateDefaultBuilder()
            .UseEnvironment("Production")
            .ConfigureLogging(l =>
            {
                l.ClearProviders();
                // Orleans' own start-up notes (ServerGC advice, watchdog on a busy 2-core machine) are noise
                // for a one-process sweep; its errors still show.
                l.AddSimpleConsole(o => { o.SingleLine = true; })
                    .AddFilter((category, level) => level >= (category?.StartsWith("Orleans", StringComparison.Ordinal) == true ? LogLevel.Error : logLevel));
                l.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            })
            .UseOrleans(silo =>
            {
                clustering(silo);
                silo.AddActivityPropagation().AddRichLazy(slots);
            })
            .ConfigureServices((context, services) => AddTelemetry(services, context.Configuration["Telemetry:Exporter"]))
            .Build();
    }

    /// <summary>
    /// OpenTelemetry by configuration (`Telemetry:Exporter` in appsettings.json, or the environment
    /// variable Telemetry__Exporter): "console", "otlp" (endpoint from OTEL_EXPORTER_OTLP_ENDPOINT),
    /// or unset for none. Traces: the RichLazyOrleans source (a span per sweep and per run).
    /// Metrics: runs by state, slot utilisation, training steps.
    /// </summary>
    public static void AddTelemetry(IServiceCollection services, string? exporter)
    {
        if (string.IsNullOrWhiteSpace(exporter) || exporter == "none") return;
        if (exporter is not ("console" or "otlp")) throw new InvalidOperationException($"Telemetry:Exporter must be 'console', 'otlp' or 'none', got '{exporter}'");
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("richlazy"))
            .WithTracing(t =>
            {
                t.AddSource(Telemetry.Name);
                if (exporter == "console") t.AddConsoleExporter(); else t.AddOtlpExporter();
            })
            .WithMetrics(m =>
            {
                m.AddMeter(Telemetry.Name, "RichLazyOrleans.Training");
                if (exporter == "console") m.AddConsoleExporter(); else m.AddOtlpExporter();
            });
    }

    /// <summary>A client of a local silo's gateway (loopback).</summary>
    public static IHost BuildLocalClient(int gatewayPort) =>
        Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleansClient(c => c.UseLocalhostClustering(gatewayPort))
            .Build();

    /// <summary>A client of a Redis cluster: it finds the gateways in Redis.</summary>
    public static IHost BuildRedisClient(string redis) =>
        Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleansClient(c => c
                .UseRedisClustering(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(redis))
                .Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = ClusterId; o.ServiceId = ClusterId; }))
            .Build();

    private static int FreeLoopbackPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
