using RichLazyOrleans.Engine;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;

namespace RichLazyOrleans.Silo;

/// <summary>How one silo process is set up (`richlazy silo` flags, each with an environment fallback in
/// <see cref="SiloEnvironment"/>).</summary>
public sealed record SiloConfig
{
    public int Slots { get; init; } = SlotPool.DefaultSlots();
    /// <summary>Redis configuration string; null: a single local silo (membership, state and reminders in
    /// memory).</summary>
    public string? Redis { get; init; }
    public int SiloPort { get; init; } = SiloEnvironment.DefaultSiloPort;
    public int GatewayPort { get; init; } = SiloEnvironment.DefaultGatewayPort;
    /// <summary>IP address or host name this silo is reached at; loopback by default.</summary>
    public string? Advertise { get; init; }
    public bool ListenAny { get; init; }
    public bool Kubernetes { get; init; }
    /// <summary>HTTP port for health and the dashboard; null: no HTTP listener (unless the dashboard is on).</summary>
    public int? HttpPort { get; init; }
    public string HttpBind { get; init; } = "127.0.0.1";
    public bool Dashboard { get; init; }
    /// <summary>Token the dashboard asks for (<see cref="SiloHttp"/>); needed beyond loopback unless
    /// <see cref="InsecureHttp"/>.</summary>
    public string? HttpToken { get; init; }
    public bool InsecureHttp { get; init; }
    public int ShutdownSeconds { get; init; } = SiloEnvironment.DefaultShutdownSeconds;
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;
    /// <summary>Where specs may write and read (`--results-root`, `--data-root`); unconfined by default.</summary>
    public PathRoots Roots { get; init; } = PathRoots.Unconfined;
    /// <summary>GPUs this silo gives a slot each (`--gpus 0,1`), beside its <see cref="Slots"/> CPU slots.</summary>
    public IReadOnlyList<string> Gpus { get; init; } = [];
    /// <summary>Whether `command` runs (programs) execute here (<see cref="CommandPolicy"/>).</summary>
    public bool AllowCommands { get; init; } = true;
    /// <summary>Mutual TLS on silo-to-silo and gateway connections; null: plain TCP.</summary>
    public TlsConfig? Tls { get; init; }
}

/// <summary>What every RichLazyOrleans silo needs, and the hosts built from it.</summary>
public static class SiloSetup
{
    /// <summary>
    /// Adds this silo's device slots, registers them with the cluster (at start, then as a
    /// heartbeat), and drains them on shutdown: running runs save a checkpoint and are handed to
    /// other silos before this one leaves. Grain storage and reminders are the caller's choice
    /// (<see cref="AddInMemoryDurability"/> or Redis).
    /// </summary>
    public static ISiloBuilder AddRichLazy(this ISiloBuilder silo, int slots,
        int shutdownSeconds = SiloEnvironment.DefaultShutdownSeconds, IReadOnlyList<string>? gpus = null)
    {
        var pool = new SlotPool(slots, gpus);   // CPU slots, and a slot per GPU
        silo.Services.AddSingleton(pool);
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton(
            silo.Services, new SweepOptions());
        // Paths a spec may name: anywhere (embedded, tests) unless the silo was started with roots (Build).
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton(
            silo.Services, PathRoots.Unconfined);
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton(
            silo.Services, CommandPolicy.Allow);
        // A Redis cluster registers its own identity first (Build); everything else is a cluster of one process.
        Microsoft.Extensions.DependencyInjection.Extensions.ServiceCollectionDescriptorExtensions.TryAddSingleton(
            silo.Services, ClusterIdentity.ThisProcess());
        // Grain state in Orleans' binary format (its generated serializers) instead of the default
        // JSON: a sweep's state grows with its runs, and JSON made each write of a 2 000-run sweep
        // cost ~0.1 s of CPU (6% of a 10 ms-per-run sweep on 2 cores; measured, bench orchestration).
        silo.Services.AddSingleton<Orleans.Storage.IGrainStorageSerializer>(sp =>
            new Orleans.Storage.OrleansGrainStorageSerializer(
                sp.GetRequiredService<Orleans.Serialization.Serializer>()));
        silo.Services.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(5));
        silo.AddStartupTask(async (services, cancellation) =>
        {
            // Pay the one-time JIT and reflection cost of the result writers at start-up, not in
            // the middle of the first sweep.
            var warm = new[] { new Results.ResultRow { RunId = "warm-up" } };
            await Results.ResultParquet.WriteAsync(new MemoryStream(), warm, ["warm_up"]);
            System.Text.Json.JsonSerializer.Deserialize<List<Results.ResultRow>>(
                System.Text.Json.JsonSerializer.Serialize(warm));
            await Results.ResultCompaction.WarmUpAsync();   // and of merging a sweep's files when it ends
            // Register the slots now (sweeps size their in-flight window from them), without waiting:
            // a grain call at start-up can wait 30 s on a silo that died and is not yet declared dead,
            // and would hold the start back. SlotLifecycle's heartbeat repeats it every few seconds.
            var self = services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToString();
            _ = services.GetRequiredService<IGrainFactory>().GetGrain<ISlotRegistryGrain>(0)
                .Register(self, pool.Slots, pool.Gpus.Count)
                // observed; the heartbeat retries
                .ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        });
        silo.Services.AddSingleton(new DrainOptions(TimeSpan.FromSeconds(shutdownSeconds)));
        silo.Services.AddHostedService<SlotLifecycle>();
        return silo;
    }

    /// <summary>Grain storage and reminders in memory: a single process (embedded, local silo, TestingHost).</summary>
    public static ISiloBuilder AddInMemoryDurability(this ISiloBuilder silo) =>
        silo.AddMemoryGrainStorage(StorageNames.Default).UseInMemoryReminderService();

    /// <summary>
    /// An in-process silo (with its co-hosted client) on loopback only, on free ports so several
    /// sweeps on one machine do not collide. Logging goes to stderr at warning level and above.
    /// </summary>
    public static IHost BuildEmbedded(int slots, LogLevel logLevel = LogLevel.Warning,
        IReadOnlyList<string>? gpus = null, int? httpPort = null) =>
        Build(new SiloConfig
        {
            Slots = slots, SiloPort = FreeLoopbackPort(), GatewayPort = FreeLoopbackPort(), LogLevel = logLevel,
            Gpus = gpus ?? [], HttpPort = httpPort,   // loopback only: the live sweep page and the probes
        });

    /// <summary>A single local silo on loopback with fixed ports (`richlazy silo`): clients reach its
    /// gateway.</summary>
    public static IHost BuildLocal(int slots, int siloPort, int gatewayPort, LogLevel logLevel = LogLevel.Warning) =>
        Build(new SiloConfig { Slots = slots, SiloPort = siloPort, GatewayPort = gatewayPort, LogLevel = logLevel });

    /// <summary>Cluster and service id shared by every silo and client of a RichLazyOrleans cluster.</summary>
    public const string ClusterId = "richlazy";

    /// <summary>A silo: local (no Redis) or a member of the cluster registered in Redis, on Kubernetes or
    /// not.</summary>
    public static IHost Build(SiloConfig config)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(config.Slots + config.Gpus.Count, 1);
        // Loaded here, before the host exists: a bad certificate is one line (TlsConfigException), not a failed start.
        var tls = config.Tls is { } t ? SiloTls.Load(t) : null;
        int? httpPort = config.HttpPort ?? (config.Dashboard ? SiloEnvironment.DefaultHttpPort : null);
        var builder = Host.CreateDefaultBuilder()
            .UseEnvironment("Production")
            .ConfigureLogging(l =>
            {
                l.ClearProviders();
                // Orleans' own start-up notes (ServerGC advice, watchdog on a busy 2-core machine) are noise
                // for a one-process sweep; its errors still show.
                l.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
                    .AddFilter((category, level) => level >= (
                        category?.StartsWith("Orleans", StringComparison.Ordinal) == true ? LogLevel.Error
                        : category?.StartsWith("Microsoft", StringComparison.Ordinal) == true ? LogLevel.Warning
                        : config.LogLevel));
                l.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(
                    o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            })
            // Long enough for running runs to checkpoint and hand over, then for Orleans to leave cleanly.
            .ConfigureServices(s => s.Configure<HostOptions>(
                o => o.ShutdownTimeout = TimeSpan.FromSeconds(config.ShutdownSeconds + 30)))
            .UseOrleans(silo =>
            {
                if (config.Redis is null)
                {
                    silo.UseLocalhostClustering(config.SiloPort, config.GatewayPort).AddInMemoryDurability();
                }
                else
                {
                    var redis = StackExchange.Redis.ConfigurationOptions.Parse(config.Redis);
                    // Ride out a Redis restart: keep reconnecting instead of failing the first command.
                    redis.AbortOnConnectFail = false;
                    silo.Services.AddSingleton(
                        new ClusterIdentity($"redis:{ClusterId}@{string.Join(",", redis.EndPoints)}"));
                    silo.UseRedisClustering(o => o.ConfigurationOptions = redis)
                        .AddRedisGrainStorage(StorageNames.Default, o => o.ConfigurationOptions = redis)
                        .UseRedisReminderService(o => o.ConfigurationOptions = redis)
                        .Configure<ClusterOptions>(o => { o.ClusterId = ClusterId; o.ServiceId = ClusterId; })
                        .Configure<ClusterMembershipOptions>(o =>
                        {
                            // A SIGKILLed silo is declared dead after ~3 missed probes of 3 s; a silo that
                            // died unseen stops counting once its IAmAlive row is a minute old.
                            o.ProbeTimeout = TimeSpan.FromSeconds(3);
                            o.NumMissedProbesLimit = 3;
                            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(30);
                            o.NumMissedTableIAmAliveLimit = 2;
                        });
                    if (config.Kubernetes)
                        silo.UseKubernetesHosting()   // pod name, IP, namespace and cluster ids from the downward API
                            .Configure<EndpointOptions>(o =>
                            {
                                o.SiloPort = config.SiloPort;
                                o.GatewayPort = config.GatewayPort;
                            });
                    else
                    {
                        var address = ResolveAdvertised(config.Advertise);
                        silo.ConfigureEndpoints(address, config.SiloPort, config.GatewayPort,
                            listenOnAnyHostAddress: config.ListenAny);
                    }
                }
                silo.Services.AddSingleton(config.Roots);
                silo.Services.AddSingleton(new CommandPolicy(config.AllowCommands));
                if (tls is not null) silo.UseRichLazyTls(tls);   // both modes: silo port and gateway
                silo.AddActivityPropagation().AddRichLazy(config.Slots, config.ShutdownSeconds, config.Gpus);
                if (config.Dashboard) silo.AddDashboard();
            })
            .ConfigureServices((context, services) =>
                AddTelemetry(services, context.Configuration["Telemetry:Exporter"]));
        if (httpPort is { } port) SiloHttp.Add(builder, config, port);
        return builder.Build();
    }

    internal static IPAddress ResolveAdvertised(string? advertise)
    {
        if (string.IsNullOrWhiteSpace(advertise)) return IPAddress.Loopback;
        if (IPAddress.TryParse(advertise, out var ip)) return ip;
        // A host name (a compose service): the address it resolves to here.
        var addresses = Dns.GetHostAddresses(advertise);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException(
                $"{SiloEnvironment.Advertise}: '{advertise}' resolves to no address");
    }

    /// <summary>
    /// OpenTelemetry by configuration (`Telemetry:Exporter` in appsettings.json, or the environment
    /// variable Telemetry__Exporter): "console", "otlp" (endpoint from OTEL_EXPORTER_OTLP_ENDPOINT),
    /// or unset for none. Traces: the RichLazyOrleans source (a span per sweep and per run).
    /// Metrics: runs by state, slot utilisation, training steps.
    /// </summary>
    /// <summary>The meters a silo exports: the orchestrator's and the training engines' (one for every kind).
    /// </summary>
    public static IReadOnlyList<string> Meters { get; } = [Telemetry.Name, Training.TrainingMeter.Name];

    public static void AddTelemetry(IServiceCollection services, string? exporter)
    {
        if (string.IsNullOrWhiteSpace(exporter) || exporter == "none") return;
        if (exporter is not ("console" or "otlp"))
            throw new InvalidOperationException(
                $"Telemetry:Exporter must be 'console', 'otlp' or 'none', got '{exporter}'");
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("richlazy"))
            .WithTracing(t =>
            {
                t.AddSource(Telemetry.Name);
                if (exporter == "console") t.AddConsoleExporter(); else t.AddOtlpExporter();
            })
            .WithMetrics(m =>
            {
                m.AddMeter([.. Meters]);
                if (exporter == "console") m.AddConsoleExporter(); else m.AddOtlpExporter();
            });
    }

    private static int FreeLoopbackPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
