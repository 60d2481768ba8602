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

/// <summary>`richlazy sweep run SPEC.yaml --out DIR`: a sweep on an embedded silo, with progress.</summary>
internal static class SweepCommands
{
    public static Command Create()
    {
        var cmd = new Command("sweep",
            "Phase-diagram sweeps over (tau, delta) or (tau, alpha), refined where the regime changes.");
        var spec = new Argument<FileInfo>("spec") { Description = "sweep spec (YAML)" };
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "results directory (runs/*.parquet)",
            Required = true,
        };
        var slots = new Option<int?>("--slots")
        {
            Description = "device slots of the embedded silo (default: cores / the runs' `threads`)",
        };
        var redis = RedisOption();
        var gpus = new Option<string?>("--gpus")
        {
            Description = "GPU slots of the embedded silo beside its CPU slots: 0,1 or all ($RICHLAZY_GPUS)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(SiloEnvironment.Gpus) is { Length: > 0 } v
                ? v : null,
        };
        var httpPort = new Option<int?>("--http-port")
        {
            Description = "serve the live sweep page on this loopback port (embedded silo): "
                + "http://127.0.0.1:PORT/sweeps/NAME",
        };
        var run = new Command("run",
            "Run a sweep to completion (embedded silo unless --redis names a cluster) and show progress.")
            { spec, output, slots, redis, gpus, httpPort };
        // TLS flags matter with --redis only: the embedded silo and its client share one process.
        var runTls = new TlsFlags().AddTo(run);
        run.SetAction(async (p, ct) =>
        {
            if (p.GetValue(redis) is { } r)
            {
                var (sweep, yaml) = LoadSpec(p.GetValue(spec)!.FullName);
                return await WithClient(0, r, runTls.Read(p), async client => SweepRunner.ExitCode(
                    await SweepRunner.RunOnAsync(client, sweep, yaml, p.GetValue(output)!.FullName, 0, ct)), ct);
            }
            return await RunAsync(p.GetValue(spec)!.FullName, p.GetValue(output)!.FullName, p.GetValue(slots),
                SiloGpus.Parse(p.GetValue(gpus)), p.GetValue(httpPort), ct);
        });
        cmd.Subcommands.Add(run);

        // Against a running local silo (`richlazy silo`): submit, then look in or stop from anywhere.
        var gateway = new Option<int>("--gateway")
        {
            Description = "gateway port of the local silo (`richlazy silo`)",
            DefaultValueFactory = _ => 30000,
        };
        var clusterRedis = RedisOption();
        var tls = new TlsFlags();
        // Every client command below reaches the silo(s) the same way: --gateway or --redis, and TLS.
        Task<int> Connect(ParseResult p, Func<IClusterClient, Task<int>> action, CancellationToken ct) =>
            WithClient(p.GetValue(gateway), p.GetValue(clusterRedis), tls.Read(p), action, ct);
        var name = new Argument<string>("name") { Description = "sweep id (the spec's name)" };
        var submit = new Command("submit", "Start a sweep on a running silo and return.")
            { spec, output, gateway, clusterRedis };
        submit.SetAction(async (p, ct) =>
        {
            var (sweep, yaml) = LoadSpec(p.GetValue(spec)!.FullName);
            string outDir = p.GetValue(output)!.FullName;
            return await Connect(p, async client =>
            {
                var s = await client.GetGrain<ISweepCoordinatorGrain>(sweep.Name).Start(new SweepRequest(yaml, outDir));
                if (s.Finished)
                    throw new SpecException($"sweep '{sweep.Name}' already ended ({s.State}); nothing was started: "
                        + $"`richlazy sweep resume {sweep.Name}` continues it, "
                        + $"`richlazy sweep delete {sweep.Name}` forgets it");
                Directory.CreateDirectory(outDir);
                File.WriteAllText(Path.Combine(outDir, "sweep.yaml"), yaml);
                Console.WriteLine($"submitted {sweep.Name}: {SweepRunner.Line(s)}");
                return 0;
            }, ct);
        });
        var json = new Option<bool>("--json") { Description = "print it as one JSON object (for programs)" };
        var statusCmd = new Command("status", "One line on where a sweep stands.")
            { name, gateway, clusterRedis, json };
        statusCmd.SetAction(async (p, ct) => await Connect(p, async client =>
        {
            var s = await client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!).GetStatus();
            if (s.State == "new") throw new SpecException($"no sweep named '{p.GetValue(name)}' on this cluster");
            Console.WriteLine(p.GetValue(json) ? SweepStatusJson.Line(s) : SweepRunner.Line(s));
            return 0;
        }, ct));
        var jsonl = new Option<bool>("--jsonl")
        {
            Description = "one JSON object per update on stdout (JSON Lines), the last one when it ends",
        };
        var watch = new Command("watch", "Follow a sweep until it ends.") { name, gateway, clusterRedis, jsonl };
        watch.SetAction(async (p, ct) => await Connect(p, async client =>
        {
            var g = client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!);
            var s = await g.GetStatus();
            if (s.State == "new") throw new SpecException($"no sweep named '{p.GetValue(name)}' on this cluster");
            DateTime? lostSince = null;
            bool lines = p.GetValue(jsonl);
            string? last = null;
            while (!s.Finished)
            {
                if (!lines) Console.Error.WriteLine(SweepRunner.Line(s));
                else if (SweepStatusJson.Line(s) is var now && now != last) Console.WriteLine(last = now);
                await Task.Delay(1000, ct);
                try { s = await g.GetStatus(); lostSince = null; }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    lostSince ??= DateTime.UtcNow;
                    Console.Error.WriteLine(
                        $"richlazy: no answer from the cluster ({e.Message.Split('\n')[0]}); waiting");
                    if (DateTime.UtcNow - lostSince > SweepRunner.LostContactLimit) throw;
                }
            }
            Console.WriteLine(lines ? SweepStatusJson.Line(s) : SweepRunner.Line(s));
            return SweepRunner.ExitCode(s);
        }, ct));
        var listJson = new Option<bool>("--json") { Description = "one JSON array of statuses (for programs)" };
        var list = new Command("list", "Every sweep this silo or cluster knows, one line each.")
            { gateway, clusterRedis, listJson };
        list.SetAction(async (p, ct) => await Connect(p, async client =>
        {
            var names = await client.GetGrain<ISweepRegistryGrain>(0).List();
            var statuses = await Task.WhenAll(
                names.Select(n => client.GetGrain<ISweepCoordinatorGrain>(n).GetStatus()));
            if (p.GetValue(listJson))
                Console.WriteLine(new System.Text.Json.Nodes.JsonArray(statuses
                    .Select(s => (System.Text.Json.Nodes.JsonNode)SweepStatusJson.Of(s)).ToArray()).ToJsonString());
            else if (statuses.Length == 0) Console.WriteLine("no sweeps");
            else
                foreach (var s in statuses)
                    Console.WriteLine($"{s.SweepId}: {SweepRunner.Line(s)["richlazy: ".Length..]}");
            return 0;
        }, ct));
        var stopRuns = new Option<bool>("--stop-runs")
        {
            Description = "running runs save their state and stop instead of finishing (`sweep resume` continues them)",
        };
        var cancel = new Command("cancel", "Stop dispatching a sweep's runs; running ones finish and are recorded.")
            { name, gateway, clusterRedis, stopRuns };
        cancel.SetAction(async (p, ct) => await Connect(p, async client =>
        {
            var coordinator = client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!);
            var s = p.GetValue(stopRuns) ? await coordinator.Stop() : await coordinator.Cancel();
            Console.WriteLine(SweepRunner.Line(s));
            return 0;
        }, ct));
        var resume = new Command("resume",
            "Wake a sweep after its silos were restarted, or continue a cancelled or failed one: "
            + "it restores itself from its state and the results directory and starts its unfinished runs again "
            + "(after a restart it also does so by itself within a minute).")
            { name, gateway, clusterRedis };
        resume.SetAction(async (p, ct) => await Connect(p, async client =>
        {
            var s = await client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!).Resume();
            if (s.State == "new") throw new SpecException($"no sweep named '{p.GetValue(name)}' on this cluster");
            Console.WriteLine(SweepRunner.Line(s));
            return 0;
        }, ct));
        var withResults = new Option<bool>("--results") { Description = "also delete its results directory" };
        var delete = new Command("delete",
            "Forget a sweep that is not running (cancel it first), so its name can be used again.")
        {
            name, gateway, clusterRedis, withResults,
        };
        delete.SetAction(async (p, ct) => await Connect(p, async client =>
        {
            var g = client.GetGrain<ISweepCoordinatorGrain>(p.GetValue(name)!);
            if ((await g.GetStatus()).State == "new")
                throw new SpecException($"no sweep named '{p.GetValue(name)}' on this cluster");
            string dir = await g.Delete();
            bool own = OwnResults(dir, p.GetValue(name)!);
            if (p.GetValue(withResults) && own) Directory.Delete(dir, recursive: true);
            Console.WriteLine($"deleted sweep {p.GetValue(name)}" + (p.GetValue(withResults)
                ? own ? $" and {dir}" : $"; {dir} kept (not this sweep's results)"
                : $"; its results stay in {dir}"));
            return 0;
        }, ct));
        foreach (var c in new[] { submit, statusCmd, watch, cancel, resume, delete, list }) cmd.Subcommands.Add(c);
        tls.AddTo(submit, statusCmd, watch, cancel, resume, delete, list);
        return cmd;
    }

    /// <summary>
    /// What a sweep writes in its results folder; a folder holding anything else is not only its own.
    /// </summary>
    private static readonly string[] ResultEntries = ["runs", "logs", "checkpoints", "journal", "points.parquet",
        "boundary.json", "manifest.json", "sweep.yaml", ".richlazy.lock", "results.csv"];

    /// <summary>
    /// Whether `delete --results` may remove <paramref name="dir"/>: its sweep.yaml names this sweep (the whole
    /// line, not a prefix of another name) and it holds only what a sweep writes (no other sweep's folder: a
    /// results root given as --out once held 25 other sweeps, and delete removed them all).
    /// </summary>
    internal static bool OwnResults(string dir, string sweep)
    {
        string yaml = Path.Combine(dir, "sweep.yaml");
        if (dir.Length == 0 || !File.Exists(yaml)) return false;
        if (!File.ReadLines(yaml).Any(l => System.Text.RegularExpressions.Regex.IsMatch(l,
                $@"^name:\s*['""]?{System.Text.RegularExpressions.Regex.Escape(sweep)}['""]?\s*(#.*)?$")))
            return false;
        return Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).All(e => e is not null
            && (ResultEntries.Contains(e) || e.EndsWith(".png", StringComparison.Ordinal)
                || e.EndsWith(".csv", StringComparison.Ordinal)));
    }

    /// <summary>
    /// --redis: a StackExchange.Redis configuration string, so password and TLS go with it
    /// ("host:6379,password=...,ssl=true"); defaults to the RICHLAZY_REDIS environment variable.
    /// </summary>
    internal static Option<string?> RedisOption() => new("--redis")
    {
        Description = "the cluster's Redis: HOST:PORT[,password=...][,ssl=true] (default: $RICHLAZY_REDIS)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RICHLAZY_REDIS") is { Length: > 0 } v ? v : null,
    };

    /// <summary>How long a client waits for a silo to answer before it says none does.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private static async Task<int> WithClient(int gatewayPort, string? redis, TlsConfig? tls,
        Func<IClusterClient, Task<int>> action, CancellationToken ct)
    {
        IHost built;
        try
        {
            built = redis is null ? ClientSetup.BuildLocalClient(gatewayPort, tls)
                : ClientSetup.BuildRedisClient(redis, tls);
        }
        catch (TlsConfigException e) { throw new SpecException(e.Message); }
        using var host = built;
        // A silo that refuses the handshake looks like no silo to the Orleans client: name TLS as a cause.
        string hint = tls is null ? "; a silo with TLS needs --tls-cert/--tls-ca here too"
            : "; or the TLS handshake failed (each side's certificate must chain to the other's --tls-ca)";
        string where = redis is null ? $"on 127.0.0.1:{gatewayPort} (start one with `richlazy silo`)"
            : $"in the cluster registered at Redis {SiloCommand.RedactPassword(redis)} "
                + "(start silos with `richlazy silo --redis ...`)";
        // The Orleans client keeps trying an absent gateway for about three minutes; a person waits ~10 s.
        var start = host.StartAsync(ct);
        if (await Task.WhenAny(start, Task.Delay(ConnectTimeout, ct)) != start)
        {
            ct.ThrowIfCancellationRequested();
            throw new InvalidOperationException(
                $"no silo answers {where} within {ConnectTimeout.TotalSeconds:F0} s{hint}");
        }
        try { await start; }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException(
                $"no silo answers {where}: {SiloCommand.RedactPassword(e.Message.Split('\n')[0])}{hint}");
        }
        try { return await action(host.Services.GetRequiredService<IClusterClient>()); }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C on a client (watch, status): it only stops looking; the sweep goes on. Quietly, like a shell.
            Console.Error.WriteLine(
                "richlazy: stopped watching; the sweep goes on (`sweep watch NAME` to follow it again)");
            return 130;
        }
        finally { await host.StopAsync(CancellationToken.None); }
    }


    private static async Task<int> RunAsync(string specPath, string outDir, int? requestedSlots,
        IReadOnlyList<string> gpus, int? httpPort, CancellationToken ct)
    {
        var (spec, yaml) = LoadSpec(specPath);
        // CPU slots: cores ÷ threads per run (the runs' `threads` param, 1 by default).
        int threads = spec.Params["threads"] is System.Text.Json.Nodes.JsonValue tv && tv.TryGetValue(out long t)
            ? (int)Math.Max(1, t) : 1;
        int slots = requestedSlots ?? SlotPool.DefaultSlots(threads);
        if (slots < (gpus.Count > 0 ? 0 : 1)) throw new SpecException("--slots must be >= 1 (>= 0 with --gpus)");
        if (httpPort is { } hp)
        {
            try { SiloPorts.Probe(System.Net.IPAddress.Loopback, hp, "--http-port"); }
            catch (PortInUseException e) { throw new SpecException(e.Message); }
        }
        using var host = SiloSetup.BuildEmbedded(slots, gpus: gpus, httpPort: httpPort);
        await host.StartAsync(ct);
        if (httpPort is { } port)
            Console.Error.WriteLine($"richlazy: live page: http://127.0.0.1:{port}{Silo.Pages.SweepPages.Path}/"
                + Uri.EscapeDataString(spec.Name));
        try
        {
            return SweepRunner.ExitCode(await SweepRunner.RunOnAsync(host.Services.GetRequiredService<IClusterClient>(),
                spec, yaml, outDir, slots + gpus.Count, ct));
        }
        // also after a bad spec: a clean stop, no shutdown noise
        finally { await host.StopAsync(CancellationToken.None); }
    }

    internal static (SweepSpec Spec, string Yaml) LoadSpec(string specPath) =>
        (SweepSpec.Load(specPath, KindCatalog.Kinds), File.ReadAllText(specPath));

}
