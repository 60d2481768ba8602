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

/// <summary>`richlazy sweep run SPEC.yaml --out DIR`: a sweep on an embedded silo, with progress.</summary>
internal static class SweepCommands
{
    public static Command Create()
    {
        var cmd = new Command("sweep", "Phase-diagram sweeps over (tau, delta) or (tau, alpha), refined where the regime changes.");
        var spec = new Argument<FileInfo>("spec") { Description = "sweep spec (YAML)" };
        var output = new Option<DirectoryInfo>("--out") { Description = "results directory (runs/*.parquet)", Required = true };
        var slots = new Option<int?>("--slots") { Description = "device slots of the embedded silo (default: cores / the runs' `threads`)" };
        var redis = RedisOption();
        var run = new Command("run", "Run a sweep to completion (embedded silo unless --redis names a cluster) and show progress.") { spec, output, slots, redis };
        run.SetAction(async (p, ct) =>
        {
            if (p.GetValue(redis) is { } r)
            {
                var (sweep, yaml) = LoadSpec(p.GetValue(spec)!.FullName);
                return await WithClient(0, r, async client => ExitCode(await RunOnAsync(client, sweep, yaml, p.GetValue(output)!.FullName, 0, ct)), ct);
            }
            return await RunAsync(p.GetValue(spec)!.FullName, p.GetValue(output)!.FullName, p.GetValue(slots), ct);
        });
        cmd.Subcommands.Add(run);

        // Against a running local silo (`richlazy silo`): submit, then look in or stop from anywhere.
        var gateway = new Option<int>("--gateway") { Description = "gateway port of the local silo (`richlazy silo`)", DefaultValueFactory = _ => 30000 };
        var clusterRedis = RedisOption();
        var name = new Argument<string>("name") { Description = "sweep id (the spec's name)" };
        var submit = new Command("submit", "Start a sweep on a running silo and return.") { spec, output, gateway, clusterRedis };
        submit.SetAction(async (p, ct) =>
        {
            var (sweep, yaml) = LoadSpec(p.GetValue(spec)!.FullName);
            string outDir = p.GetValue(output)!.FullName;
            return await WithClient(p.GetValue(gateway), p.GetValue(clusterRedis), async client =>
            {
                SweepStatus s;
                try { s = await client.GetGrain<ISweepCoordinatorGrain>(sweep.Name).Start(new SweepRequest(yaml, outDir)); }
                catch (ArgumentException e) { throw new SpecException(e.Message); }
                if (s.Finished)
                    throw new SpecException($"sweep '{sweep.Name}' already ended ({s.State}); nothing was started: "
                        + $"`richlazy sweep resume {sweep.Name}` continues it, `richlazy sweep delete {sweep.Name}` forgets it");
                Directory.CreateDirectory(outDir);
                File.WriteAllText(Path.Combine(outDir, "sweep.yaml"), yaml);
                Console.WriteLine($"submitted {sweep.Name}: {Line(s)}");
                return 0;
            }, ct);
        });
        var statusCmd = new Command("status", "One line on where a sweep stands.") { name, gateway, clusterRedis };
        statusCmd.SetAction(async (p, ct) => await WithClient(p.GetValue(gateway), p.GetValue(clusterRedis), async client =>
        {
            var s = await client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!).GetStatus();
            if (s.State == "new") throw new SpecException($"no sweep named '{p.GetValue(name)}' on this cluster");
            Console.WriteLine(Line(s));
            return 0;
        }, ct));
        var watch = new Command("watch", "Follow a sweep until it ends.") { name, gateway, clusterRedis };
        watch.SetAction(async (p, ct) => await WithClient(p.GetValue(gateway), p.GetValue(clusterRedis), async client =>
        {
            var g = client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!);
            var s = await g.GetStatus();
            if (s.State == "new") throw new SpecException($"no sweep named '{p.GetValue(name)}' on this cluster");
            DateTime? lostSince = null;
            while (!s.Finished)
            {
                Console.Error.WriteLine(Line(s));
                await Task.Delay(1000, ct);
                try { s = await g.GetStatus(); lostSince = null; }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    lostSince ??= DateTime.UtcNow;
                    Console.Error.WriteLine($"richlazy: no answer from the cluster ({e.Message.Split('\n')[0]}); waiting");
                    if (DateTime.UtcNow - lostSince > LostContactLimit) throw;
                }
            }
            Console.WriteLine(Line(s));
            return ExitCode(s);
        }, ct));
        var cancel = new Command("cancel", "Stop dispatching a sweep's runs; running ones finish and are recorded.") { name, gateway, clusterRedis };
        cancel.SetAction(async (p, ct) => await WithClient(p.GetValue(gateway), p.GetValue(clusterRedis), async client =>
        {
            Console.WriteLine(Line(await client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!).Cancel()));
            return 0;
        }, ct));
        var resume = new Command("resume", "Wake a sweep after its silos were restarted, or continue a cancelled or failed one: it restores itself from its state and the results directory and starts its unfinished runs again (after a restart it also does so by itself within a minute).") { name, gateway, clusterRedis };
        resume.SetAction(async (p, ct) => await WithClient(p.GetValue(gateway), p.GetValue(clusterRedis), async client =>
        {
            var s = await client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!).Resume();
            if (s.State == "new") throw new SpecException($"no sweep named '{p.GetValue(name)}' on this cluster");
            Console.WriteLine(Line(s));
            return 0;
        }, ct));
        var withResults = new Option<bool>("--results") { Description = "also delete its results directory" };
        var delete = new Command("delete", "Forget a sweep that is not running (cancel it first), so its name can be used again.")
        {
            name, gateway, clusterRedis, withResults,
        };
        delete.SetAction(async (p, ct) => await WithClient(p.GetValue(gateway), p.GetValue(clusterRedis), async client =>
        {
            var g = client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!);
            if ((await g.GetStatus()).State == "new") throw new SpecException($"no sweep named '{p.GetValue(name)}' on this cluster");
            string dir;
            try { dir = await g.Delete(); }
            catch (ArgumentException e) { throw new SpecException(e.Message); }
            // Results only where they are this sweep's (its sweep.yaml there names it), never an arbitrary path.
            bool own = dir.Length > 0 && File.Exists(Path.Combine(dir, "sweep.yaml"))
                && File.ReadAllText(Path.Combine(dir, "sweep.yaml")).Contains($"name: {p.GetValue(name)}");
            if (p.GetValue(withResults) && own) Directory.Delete(dir, recursive: true);
            Console.WriteLine($"deleted sweep {p.GetValue(name)}{(p.GetValue(withResults) ? own ? $" and {dir}" : $"; {dir} kept (not this sweep's results)" : $"; its results stay in {dir}")}");
            return 0;
        }, ct));
        foreach (var c in new[] { submit, statusCmd, watch, cancel, resume, delete }) cmd.Subcommands.Add(c);
        return cmd;
    }

    /// <summary>
    /// --redis: a StackExchange.Redis configuration string, so password and TLS go with it
    /// ("host:6379,password=...,ssl=true"); defaults to the RICHLAZY_REDIS environment variable.
    /// </summary>
    private static Option<string?> RedisOption() => new("--redis")
    {
        Description = "the cluster's Redis: HOST:PORT[,password=...][,ssl=true] (default: $RICHLAZY_REDIS)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RICHLAZY_REDIS") is { Length: > 0 } v ? v : null,
    };

    /// <summary>How long a client waits for a silo to answer before it says none does.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private static async Task<int> WithClient(int gatewayPort, string? redis, Func<IClusterClient, Task<int>> action, CancellationToken ct)
    {
        using var host = redis is null ? SiloSetup.BuildLocalClient(gatewayPort) : SiloSetup.BuildRedisClient(redis);
        string where = redis is null ? $"on 127.0.0.1:{gatewayPort} (start one with `richlazy silo`)" : $"in the cluster registered at Redis {RedactPassword(redis)} (start silos with `richlazy silo --redis ...`)";
        // The Orleans client keeps trying an absent gateway for about three minutes; a person waits ~10 s.
        var start = host.StartAsync(ct);
        if (await Task.WhenAny(start, Task.Delay(ConnectTimeout, ct)) != start)
        {
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException($"no silo answers {where} within {ConnectTimeout.TotalSeconds:F0} s");
        }
        try { await start; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"no silo answers {where}: {RedactPassword(e.Message.Split('\n')[0])}");
        }
        try { return await action(host.Services.GetRequiredService<IClusterClient>()); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C on a client (watch, status): it only stops looking; the sweep goes on. Quietly, like a shell.
            Console.Error.WriteLine("richlazy: stopped watching; the sweep goes on (`sweep watch NAME` to follow it again)");
            return 130;
        }
        finally { await host.StopAsync(CancellationToken.None); }
    }

    /// <summary>
    /// `richlazy silo`: a long-lived silo, alone (local) or a member of a Redis cluster. Every flag
    /// falls back to an environment variable (<see cref="SiloEnvironment"/>), so containers and
    /// Kubernetes configure it without a command line.
    /// </summary>
    public static Command Silo()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        static int EnvInt(string name, int fallback) => Env(name) is { } v
            ? int.TryParse(v, out int n) ? n : throw new SpecException($"{name} must be an integer, got '{v}'")
            : fallback;
        static bool EnvBool(string name) => Env(name) is { } v && (v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1");
        var port = new Option<int>("--port") { Description = $"silo-to-silo port (${SiloEnvironment.SiloPort})", DefaultValueFactory = _ => EnvInt(SiloEnvironment.SiloPort, SiloEnvironment.DefaultSiloPort) };
        var gateway = new Option<int>("--gateway") { Description = $"client gateway port (${SiloEnvironment.GatewayPort})", DefaultValueFactory = _ => EnvInt(SiloEnvironment.GatewayPort, SiloEnvironment.DefaultGatewayPort) };
        var slots = new Option<int>("--slots") { Description = $"device slots: runs executing here at once (${SiloEnvironment.Slots}; default cores)", DefaultValueFactory = _ => EnvInt(SiloEnvironment.Slots, SlotPool.DefaultSlots()) };
        var redis = RedisOption();
        var advertise = new Option<string?>("--advertise") { Description = $"IP or host name other silos and clients reach this silo at (${SiloEnvironment.Advertise}; default 127.0.0.1)", DefaultValueFactory = _ => Env(SiloEnvironment.Advertise) };
        var listenAny = new Option<bool>("--listen-any") { Description = $"listen on all interfaces, not only the advertised address (${SiloEnvironment.ListenAny})", DefaultValueFactory = _ => EnvBool(SiloEnvironment.ListenAny) };
        var kubernetes = new Option<bool>("--kubernetes") { Description = $"Orleans Kubernetes hosting: pod name, IP and namespace from the downward API (${SiloEnvironment.Kubernetes})", DefaultValueFactory = _ => EnvBool(SiloEnvironment.Kubernetes) };
        var httpPort = new Option<int?>("--http-port") { Description = $"serve {SiloEnvironment.LivenessPath} and {SiloEnvironment.ReadinessPath} (and the dashboard) on this port (${SiloEnvironment.HttpPort})", DefaultValueFactory = _ => Env(SiloEnvironment.HttpPort) is { } v ? EnvInt(SiloEnvironment.HttpPort, 0) : null };
        var httpBind = new Option<string>("--http-bind") { Description = $"address of the HTTP listener (${SiloEnvironment.HttpBind}; default 127.0.0.1)", DefaultValueFactory = _ => Env(SiloEnvironment.HttpBind) ?? "127.0.0.1" };
        var dashboard = new Option<bool>("--dashboard") { Description = $"Orleans Dashboard at http://HTTP_BIND:HTTP_PORT{SiloEnvironment.DashboardPath} (${SiloEnvironment.Dashboard}; port {SiloEnvironment.DefaultHttpPort} unless --http-port)", DefaultValueFactory = _ => EnvBool(SiloEnvironment.Dashboard) };
        var shutdown = new Option<int>("--shutdown-seconds") { Description = $"on SIGTERM, how long running runs may take to checkpoint and move (${SiloEnvironment.ShutdownSeconds})", DefaultValueFactory = _ => EnvInt(SiloEnvironment.ShutdownSeconds, SiloEnvironment.DefaultShutdownSeconds) };
        var logLevel = new Option<LogLevel>("--log-level") { Description = "RichLazyOrleans log level on stderr (Orleans' own: errors only)", DefaultValueFactory = _ => LogLevel.Warning };
        var cmd = new Command("silo", "Run a silo until Ctrl+C/SIGTERM: alone (local) or joining the cluster registered in Redis (--redis). Binds to loopback unless told otherwise.")
            { port, gateway, slots, redis, advertise, listenAny, kubernetes, httpPort, httpBind, dashboard, shutdown, logLevel };
        cmd.SetAction(async (p, ct) =>
        {
            var config = new SiloConfig
            {
                Slots = p.GetValue(slots) >= 1 ? p.GetValue(slots) : throw new SpecException("--slots must be >= 1"),
                Redis = p.GetValue(redis),
                SiloPort = p.GetValue(port),
                GatewayPort = p.GetValue(gateway),
                Advertise = p.GetValue(advertise),
                ListenAny = p.GetValue(listenAny),
                Kubernetes = p.GetValue(kubernetes),
                HttpPort = p.GetValue(httpPort),
                HttpBind = p.GetValue(httpBind)!,
                Dashboard = p.GetValue(dashboard),
                ShutdownSeconds = Math.Max(0, p.GetValue(shutdown)),
                LogLevel = p.GetValue(logLevel),
            };
            if (config.Kubernetes && config.Redis is null) throw new SpecException("--kubernetes needs --redis (or RICHLAZY_REDIS): the cluster's membership, state and reminders live in Redis");
            try { SiloPorts.EnsureFree(config); }
            catch (PortInUseException e) { throw new SpecException(e.Message); }
            using var host = SiloSetup.Build(config);
            await host.StartAsync(ct);
            string where = config.Kubernetes ? $"pod {Environment.GetEnvironmentVariable("POD_NAME")}" : $"{config.Advertise ?? "127.0.0.1"}:{config.SiloPort} (gateway {config.GatewayPort})";
            int? http = config.HttpPort ?? (config.Dashboard ? SiloEnvironment.DefaultHttpPort : null);
            Console.Error.WriteLine($"richlazy: silo up on {where}, {config.Slots} slot(s){(config.Redis is null ? "" : $", cluster in Redis {RedactPassword(config.Redis)}")}"
                + $"{(http is { } h ? $", health on http://{config.HttpBind}:{h}{SiloEnvironment.LivenessPath}" : "")}{(config.Dashboard ? $", dashboard on http://{config.HttpBind}:{http}{SiloEnvironment.DashboardPath}" : "")}; Ctrl+C to stop");
            try { await Task.Delay(Timeout.Infinite, ct); } catch (OperationCanceledException) { }
            Console.Error.WriteLine("richlazy: silo stopping: running runs checkpoint and move to other silos");
            await host.StopAsync(CancellationToken.None);
            return 0;
        });
        return cmd;
    }

    /// <summary>A Redis configuration string fit for a log line.</summary>
    internal static string RedactPassword(string redis) => System.Text.RegularExpressions.Regex.Replace(redis, "password=[^,]*", "password=***", System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    private static async Task<int> RunAsync(string specPath, string outDir, int? requestedSlots, CancellationToken ct)
    {
        var (spec, yaml) = LoadSpec(specPath);
        // CPU slots: cores ÷ threads per run (the runs' `threads` param, 1 by default).
        int threads = spec.Params["threads"] is System.Text.Json.Nodes.JsonValue tv && tv.TryGetValue(out long t) ? (int)Math.Max(1, t) : 1;
        int slots = requestedSlots ?? SlotPool.DefaultSlots(threads);
        if (slots < 1) throw new SpecException("--slots must be >= 1");
        using var host = SiloSetup.BuildEmbedded(slots);
        await host.StartAsync(ct);
        try { return ExitCode(await RunOnAsync(host.Services.GetRequiredService<IClusterClient>(), spec, yaml, outDir, slots, ct)); }
        finally { await host.StopAsync(CancellationToken.None); }   // also after a bad spec: a clean stop, no shutdown noise
    }

    /// <summary>How long `sweep run` waits for a cluster that stopped answering before it gives up (the sweep goes on regardless).</summary>
    private static readonly TimeSpan LostContactLimit = TimeSpan.FromMinutes(10);

    internal static int ExitCode(SweepStatus status) => status.State is "cancelled" or "cancelling" ? 130
        : status.Failed > 0 || status.State == "failed" ? 1 : 0;

    internal static (SweepSpec Spec, string Yaml) LoadSpec(string specPath)
    {
        try { return (SweepSpec.Load(specPath, SweepCoordinatorGrain.Kinds), File.ReadAllText(specPath)); }
        catch (SweepSpecException e) { throw new SpecException(e.Message); }
    }

    /// <summary>Starts a sweep on a cluster, shows progress until it ends (Ctrl+C cancels), prints a summary.</summary>
    internal static async Task<SweepStatus> RunOnAsync(IClusterClient client, SweepSpec spec, string yaml, string outDir, int slots, CancellationToken ct)
    {
        var coordinator = client.GetGrain<ISweepCoordinatorGrain>(spec.Name);
        SweepStatus status;
        try { status = await coordinator.Start(new SweepRequest(yaml, outDir)); }
        catch (ArgumentException e) { throw new SpecException(e.Message); }
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "sweep.yaml"), yaml);   // beside its results, for plot

        Console.Error.WriteLine($"richlazy: sweep '{spec.Name}' ({spec.Kind}, {spec.Seeds.Count} seed(s), {spec.InitialPoints} initial points{(spec.Refine is { } rf ? $", refining '{rf.Metric}' at {rf.Threshold} to depth {rf.MaxDepth}, budget {rf.Budget}" : "")}) on {(slots > 0 ? $"{slots} slot(s)" : "the cluster")} -> {outDir}");
        bool cancelled = false;
        // Our own silo (slots > 0): stopping it after Ctrl+C makes running runs save their state and stop (as a
        // silo does on SIGTERM) instead of keeping the user waiting for them, possibly for hours.
        bool embedded = slots > 0;
        bool Done(SweepStatus s) => s.Finished || (cancelled && embedded);
        DateTime? lostSince = null;
        async Task<SweepStatus> Poll(SweepStatus s)
        {
            try { await Task.Delay(250, cancelled ? CancellationToken.None : ct); }   // after Ctrl+C, keep following until the running runs are recorded
            catch (OperationCanceledException) when (!cancelled)
            {
                cancelled = true;
                // A second Ctrl+C quits at once: every file on disk is whole (written and renamed), and what was
                // not saved yet is run again by the same command.
                Console.CancelKeyPress += (_, _) =>
                {
                    Console.Error.WriteLine("richlazy: quitting now; run the same command again to continue");
                    Environment.Exit(130);
                };
                Console.Error.WriteLine(embedded
                    ? "richlazy: stopping: no new runs; running ones save their state and stop (Ctrl+C again quits at once); "
                        + "run the same command again to continue"
                    : "richlazy: cancelling: no new runs; waiting for running ones to finish (Ctrl+C again stops watching)");
                return await coordinator.Cancel();
            }
            // A cluster whose silos are restarting (or whose Redis is) answers again in a while: wait,
            // since the sweep itself is durable and goes on by itself once silos are back.
            try
            {
                var fresh = await coordinator.GetStatus();
                if (lostSince is not null) { Console.Error.WriteLine($"richlazy: the cluster answers again after {(DateTime.UtcNow - lostSince.Value).TotalSeconds:F0} s"); lostSince = null; }
                return fresh;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (lostSince is null) { lostSince = DateTime.UtcNow; Console.Error.WriteLine($"richlazy: lost contact with the cluster ({e.Message.Split('\n')[0]}); waiting for it"); }
                else if (DateTime.UtcNow - lostSince > LostContactLimit) throw new InvalidOperationException($"no answer from the cluster for {LostContactLimit.TotalMinutes:F0} minutes; the sweep is durable: `richlazy sweep watch {spec.Name}` re-attaches");
                await Task.Delay(1000, ct);
                return s;
            }
        }

        if (!Console.IsErrorRedirected)
        {
            // A terminal: a live progress bar (on stderr, so stdout stays for the summary).
            var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(Console.Error) });
            await console.Progress()
                .Columns(new Spectre.Console.TaskDescriptionColumn(), new Spectre.Console.ProgressBarColumn(), new Spectre.Console.PercentageColumn(), new Spectre.Console.ElapsedTimeColumn(), new Spectre.Console.RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask(spec.Name);
                    while (true)
                    {
                        task.MaxValue = Math.Max(1, ExpectedRuns(spec, status));
                        task.Value = status.Done + status.Failed;
                        task.Description = $"{spec.Name} [grey]depth {status.Depth}/{status.MaxDepth} · {status.Running} running · {status.Queued} queued · {status.Failed} failed[/]";
                        if (Done(status)) break;
                        status = await Poll(status);
                    }
                });
        }
        else
        {
            var last = Stopwatch.StartNew();
            while (!Done(status))
            {
                status = await Poll(status);
                if (last.Elapsed.TotalSeconds >= 2 || Done(status))
                {
                    last.Restart();
                    Console.Error.WriteLine(Line(status, ExpectedRuns(spec, status)));
                }
            }
        }
        Console.WriteLine($"sweep {status.SweepId}: {status.State}; {status.Done} runs done, {status.Failed} failed, {status.GridPoints} grid points, depth {status.Depth}/{status.MaxDepth}, {status.RowsWritten} rows, {status.ElapsedSeconds:F1} s");
        Console.WriteLine($"results: {Path.Combine(outDir, "runs")}/*.parquet");
        if (status.Failures is not null) Console.Error.WriteLine($"richlazy: failed runs: {status.Failures}");
        // The last run failure is in the counts already; anything else (results not written, a restore) is not.
        if (status.Message is { } m && !(status.Failures is not null && m.StartsWith("run ", StringComparison.Ordinal)))
            Console.Error.WriteLine($"richlazy: {m}");
        return status;
    }

    /// <summary>`richlazy quickstart`: the README's main job.</summary>
    public static Command Quickstart()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "output directory", DefaultValueFactory = _ => new DirectoryInfo("results/quickstart") };
        var slots = new Option<int>("--slots") { Description = "device slots of the embedded silo", DefaultValueFactory = _ => SlotPool.DefaultSlots() };
        var cmd = new Command("quickstart", "On an embedded silo: an adaptive exact single-neuron phase diagram and a small adaptive teacher-student sweep, each with Parquet results and a PNG.") { output, slots };
        cmd.SetAction(async (p, ct) =>
        {
            string outDir = p.GetValue(output)!.FullName;
            int k = Math.Max(1, p.GetValue(slots));
            using var host = SiloSetup.BuildEmbedded(k);
            await host.StartAsync(ct);
            var client = host.Services.GetRequiredService<IClusterClient>();
            int code = 0;
            var pictures = new List<string>();
            try
            {
                foreach (var name in new[] { "quickstart-single-neuron", "quickstart-teacher-student" })
                {
                    using var stream = typeof(SweepCommands).Assembly.GetManifestResourceStream($"examples/{name}.yaml")!;
                    string yaml = new StreamReader(stream).ReadToEnd();
                    SweepSpec spec;
                    try { spec = SweepSpec.Parse(yaml, SweepCoordinatorGrain.Kinds); }
                    catch (SweepSpecException e) { throw new SpecException(e.Message); }
                    string dir = Path.Combine(outDir, name);
                    var status = await RunOnAsync(client, spec, yaml, dir, k, ct);
                    code = Math.Max(code, ExitCode(status));
                    if (status.State == "complete") pictures.Add(await ResultsCommands.PlotAsync(dir, null, null, ct));
                }
            }
            finally { await host.StopAsync(CancellationToken.None); }
            foreach (var pic in pictures) Console.WriteLine($"plot: {pic}");
            return code;
        });
        return cmd;
    }

    /// <summary>
    /// Runs the sweep is expected to take: the budget's points (the initial lattice without refine) times the
    /// seeds per point (adaptive: the minimum, so it can grow), or what is already known, if more. The planner
    /// proposes runs as slots free up, so this is an estimate until the sweep ends (it may also end early,
    /// when nothing is left to refine).
    /// </summary>
    private static int ExpectedRuns(SweepSpec spec, SweepStatus s)
    {
        int points = spec.Refine?.Budget ?? spec.InitialPoints;
        int seeds = spec.SeedRange?.Min ?? spec.Seeds.Count;
        return Math.Max(points * seeds, s.Done + s.Failed + s.Running + s.Queued);
    }

    /// <summary>A status line without the spec at hand (submit, status, watch): no estimate of what is left.</summary>
    private static string Line(SweepStatus s, int? expected = null)
    {
        int total = expected ?? s.Done + s.Failed + s.Running + s.Queued;
        double rate = s.ElapsedSeconds > 0 ? (s.Done + s.Failed) / s.ElapsedSeconds : 0;
        int left = total - s.Done - s.Failed;
        string eta = expected is not null && rate > 0 && left > 0 && !s.Finished ? $", ETA ~{left / rate:F0} s (to the budget)" : "";
        string recovered = s.Redispatched + s.Recoveries > 0 ? $", {s.Redispatched} run(s) moved, sweep restored {s.Recoveries}x" : "";
        string why = s.Failures is null ? "" : $" ({s.Failures})";
        return $"richlazy: [{s.State}] depth {s.Depth}/{s.MaxDepth}: {s.Done}/{total} runs done, {s.Running} running, {s.Queued} queued, {s.Failed} failed{why}, {s.GridPoints} points, {s.ElapsedSeconds:F1} s{eta}{recovered}";
    }
}
