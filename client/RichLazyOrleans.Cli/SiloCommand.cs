using RichLazyOrleans.Engine;
using Spectre.Console;
using System.CommandLine;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RichLazyOrleans.GrainInterfaces;
using RichLazyOrleans.Grains;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;
using RichLazyOrleans.Sweeps;

namespace RichLazyOrleans.Cli;

/// <summary>`richlazy silo`: a long-lived silo process (local, or a member of a Redis cluster).</summary>
internal static class SiloCommand
{
    /// <summary>
    /// `richlazy silo`: a long-lived silo, alone (local) or a member of a Redis cluster. Every flag
    /// falls back to an environment variable (<see cref="SiloEnvironment"/>), so containers and
    /// Kubernetes configure it without a command line.
    /// </summary>
    public static Command Create()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        static int EnvInt(string name, int fallback) => Env(name) is { } v
            ? int.TryParse(v, out int n) ? n : throw new SpecException($"{name} must be an integer, got '{v}'")
            : fallback;
        static bool EnvBool(string name) =>
            Env(name) is { } v && (v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1");
        var port = new Option<int>("--port")
        {
            Description = $"silo-to-silo port (${SiloEnvironment.SiloPort})",
            DefaultValueFactory = _ => EnvInt(SiloEnvironment.SiloPort, SiloEnvironment.DefaultSiloPort),
        };
        var gateway = new Option<int>("--gateway")
        {
            Description = $"client gateway port (${SiloEnvironment.GatewayPort})",
            DefaultValueFactory = _ => EnvInt(SiloEnvironment.GatewayPort, SiloEnvironment.DefaultGatewayPort),
        };
        var slots = new Option<int>("--slots")
        {
            Description = $"device slots: runs executing here at once (${SiloEnvironment.Slots}; default cores)",
            DefaultValueFactory = _ => EnvInt(SiloEnvironment.Slots, SlotPool.DefaultSlots()),
        };
        var redis = SweepCommands.RedisOption();
        var advertise = new Option<string?>("--advertise")
        {
            Description = "IP or host name other silos and clients reach this silo at "
                + $"(${SiloEnvironment.Advertise}; default 127.0.0.1)",
            DefaultValueFactory = _ => Env(SiloEnvironment.Advertise),
        };
        var listenAny = new Option<bool>("--listen-any")
        {
            Description = "listen on all interfaces, not only the advertised address "
                + $"(${SiloEnvironment.ListenAny})",
            DefaultValueFactory = _ => EnvBool(SiloEnvironment.ListenAny),
        };
        var kubernetes = new Option<bool>("--kubernetes")
        {
            Description = "Orleans Kubernetes hosting: pod name, IP and namespace from the downward API "
                + $"(${SiloEnvironment.Kubernetes})",
            DefaultValueFactory = _ => EnvBool(SiloEnvironment.Kubernetes),
        };
        var httpPort = new Option<int?>("--http-port")
        {
            Description = $"serve {SiloEnvironment.LivenessPath} and {SiloEnvironment.ReadinessPath} (and the "
                + $"dashboard) on this port (${SiloEnvironment.HttpPort})",
            DefaultValueFactory = _ =>
                Env(SiloEnvironment.HttpPort) is { } v ? EnvInt(SiloEnvironment.HttpPort, 0) : null,
        };
        var httpBind = new Option<string>("--http-bind")
        {
            Description = $"address of the HTTP listener (${SiloEnvironment.HttpBind}; default 127.0.0.1)",
            DefaultValueFactory = _ => Env(SiloEnvironment.HttpBind) ?? "127.0.0.1",
        };
        var dashboard = new Option<bool>("--dashboard")
        {
            Description = $"Orleans Dashboard at http://HTTP_BIND:HTTP_PORT{SiloEnvironment.DashboardPath} "
                + $"(${SiloEnvironment.Dashboard}; port {SiloEnvironment.DefaultHttpPort} unless --http-port)",
            DefaultValueFactory = _ => EnvBool(SiloEnvironment.Dashboard),
        };
        var shutdown = new Option<int>("--shutdown-seconds")
        {
            Description = "on SIGTERM, how long running runs may take to checkpoint and move "
                + $"(${SiloEnvironment.ShutdownSeconds})",
            DefaultValueFactory = _ => EnvInt(SiloEnvironment.ShutdownSeconds, SiloEnvironment.DefaultShutdownSeconds),
        };
        var httpToken = new Option<string?>("--http-token")
        {
            Description = $"token the dashboard asks for; needed beyond loopback (${SiloEnvironment.HttpToken}: "
                + "prefer the variable, a flag shows in `ps`)",
            DefaultValueFactory = _ => Env(SiloEnvironment.HttpToken),
        };
        var insecureHttp = new Option<bool>("--insecure-http")
        {
            Description = $"serve the dashboard beyond loopback without a token (${SiloEnvironment.InsecureHttp})",
            DefaultValueFactory = _ => EnvBool(SiloEnvironment.InsecureHttp),
        };
        var gpus = new Option<string?>("--gpus")
        {
            Description = $"a slot per GPU beside the CPU slots: 0,1,2,3 or all (${SiloEnvironment.Gpus}); "
                + "--slots 0 for GPU slots only",
            DefaultValueFactory = _ => Env(SiloEnvironment.Gpus),
        };
        var allowCommands = new Option<bool>("--allow-commands")
        {
            Description = "run `command` sweeps: programs of anyone who reaches the gateway, as this silo's user "
                + $"(${SiloEnvironment.AllowCommands})",
            DefaultValueFactory = _ => EnvBool(SiloEnvironment.AllowCommands),
        };
        var resultsRoot = new Option<string>("--results-root")
        {
            Description = $"sweeps may write (results, checkpoints, images) only under this directory "
                + $"(${SiloEnvironment.ResultsRoot}; default ./results)",
            DefaultValueFactory = _ => Env(SiloEnvironment.ResultsRoot) ?? "results",
        };
        var dataRoot = new Option<string>("--data-root")
        {
            Description = $"runs may read data only under this directory or the results root "
                + $"(${SiloEnvironment.DataRoot}; default ./data)",
            DefaultValueFactory = _ => Env(SiloEnvironment.DataRoot) ?? "data",
        };
        var logLevel = new Option<LogLevel>("--log-level")
        {
            Description = "RichLazyOrleans log level on stderr (Orleans' own: errors only)",
            DefaultValueFactory = _ => LogLevel.Warning,
        };
        var cmd = new Command("silo", "Run a silo until Ctrl+C/SIGTERM: alone (local) or joining the cluster "
            + "registered in Redis (--redis). Binds to loopback unless told otherwise.")
        {
            port, gateway, slots, redis, advertise, listenAny, kubernetes, httpPort, httpBind, dashboard, shutdown,
            httpToken, insecureHttp, gpus, allowCommands, resultsRoot, dataRoot, logLevel,
        };
        var tls = new TlsFlags().AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var config = new SiloConfig
            {
                Gpus = SiloGpus.Parse(p.GetValue(gpus)),
                Slots = p.GetValue(slots) >= (p.GetValue(gpus) is null ? 1 : 0) ? p.GetValue(slots)
                    : throw new SpecException("--slots must be >= 1 (>= 0 with --gpus)"),
                Redis = p.GetValue(redis),
                SiloPort = p.GetValue(port),
                GatewayPort = p.GetValue(gateway),
                Advertise = p.GetValue(advertise),
                ListenAny = p.GetValue(listenAny),
                Kubernetes = p.GetValue(kubernetes),
                HttpPort = p.GetValue(httpPort),
                HttpBind = p.GetValue(httpBind)!,
                Dashboard = p.GetValue(dashboard),
                HttpToken = p.GetValue(httpToken),
                InsecureHttp = p.GetValue(insecureHttp),
                ShutdownSeconds = Math.Max(0, p.GetValue(shutdown)),
                LogLevel = p.GetValue(logLevel),
                Roots = Roots(p.GetValue(resultsRoot)!, p.GetValue(dataRoot)!),
                AllowCommands = p.GetValue(allowCommands),
                Tls = tls.Read(p),
            };
            if (config.Kubernetes && config.Redis is null)
                throw new SpecException("--kubernetes needs --redis (or RICHLAZY_REDIS): the cluster's membership, "
                    + "state and reminders live in Redis");
            int? http = config.HttpPort ?? (config.Dashboard ? SiloEnvironment.DefaultHttpPort : null);
            string? exposure = SiloHttp.Exposure(config, http);   // refuses an open dashboard beyond loopback
            try { SiloPorts.EnsureFree(config); }
            catch (PortInUseException e) { throw new SpecException(e.Message); }
            IHost host;
            try { host = SiloSetup.Build(config); }
            catch (TlsConfigException e) { throw new SpecException(e.Message); }
            using var _ = host;
            await host.StartAsync(ct);
            string where = config.Kubernetes
                ? $"pod {Environment.GetEnvironmentVariable("POD_NAME")}"
                : $"{config.Advertise ?? "127.0.0.1"}:{config.SiloPort} (gateway {config.GatewayPort})";
            if (exposure is not null) Console.Error.WriteLine($"richlazy: HTTP on {exposure}");
            string gpuSlots = config.Gpus.Count > 0 ? $" + GPU slots {string.Join(",", config.Gpus)}" : "";
            Console.Error.WriteLine($"richlazy: silo up on {where}, {config.Slots} slot(s){gpuSlots}"
                + $"{(config.Redis is null ? "" : $", cluster in Redis {RedactPassword(config.Redis)}")}"
                + $"{(http is { } h ? $", health on http://{config.HttpBind}:{h}{SiloEnvironment.LivenessPath}" : "")}"
                + (config.Dashboard
                    ? $", dashboard on http://{config.HttpBind}:{http}{SiloEnvironment.DashboardPath}" : "")
                + $", writes under {config.Roots.Results}, reads under {config.Roots.Data}"
                + (config.AllowCommands ? ", runs `command` programs (--allow-commands)" : "")
                + $", {config.Tls?.Describe() ?? "TLS off"}; Ctrl+C to stop");
            try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
            Console.Error.WriteLine("richlazy: silo stopping: running runs checkpoint and move to other silos");
            await host.StopAsync(CancellationToken.None);
            return 0;
        });
        return cmd;
    }

    /// <summary>The roots a long-lived silo confines specs' paths to (<see cref="PathRoots"/>), or one line why not.
    /// </summary>
    private static PathRoots Roots(string results, string data)
    {
        try { return PathRoots.Create(results, data); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpecException($"--results-root: cannot create '{results}' ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>A Redis configuration string fit for a log line.</summary>
    internal static string RedactPassword(string redis) => System.Text.RegularExpressions.Regex.Replace(
        redis, "password=[^,]*", "password=***", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
}
