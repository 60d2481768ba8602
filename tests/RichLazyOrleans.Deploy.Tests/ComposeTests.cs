using System.Text.RegularExpressions;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Deploy.Tests;

/// <summary>deploy/compose.yaml: Redis and three silos from the image, plus a sweep client.</summary>
public partial class ComposeTests
{
    private static readonly Lazy<Dictionary<object, object>> ComposeLazy =
        new(() => Repo.Map(Repo.Yaml(Repo.Read("deploy", "compose.yaml")), "deploy/compose.yaml"));

    private static Dictionary<object, object> Services => Repo.Map(ComposeLazy.Value["services"], "services");

    private static Dictionary<object, object> Service(string name) =>
        Services.TryGetValue(name, out var s) ? Repo.Map(s, name)
            : throw new Xunit.Sdk.XunitException($"compose.yaml has no service {name}");

    /// <summary>Silos: the services whose command is `silo` (the image's default command).</summary>
    private static List<string> Silos() =>
        Services.Keys.Select(k => k.ToString()!)
            .Where(n => Service(n).TryGetValue("image", out var img)
                        && img.ToString()!.StartsWith("richlazy", StringComparison.Ordinal)
                        && (!Service(n).TryGetValue("command", out var cmd) || Command(cmd).FirstOrDefault() == "silo"))
            .Order(StringComparer.Ordinal).ToList();

    private static List<string> Command(object? cmd) => cmd switch
    {
        List<object> l => l.Select(x => x.ToString()!).ToList(),
        string s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList(),
        _ => [],
    };

    /// <summary>A service's environment, as a map or as a list of NAME=VALUE.</summary>
    private static Dictionary<string, string> Environment(string service)
    {
        var s = Service(service);
        if (!s.TryGetValue("environment", out var env) || env is null) return [];
        if (env is List<object> list)
            return list.Select(x => x.ToString()!.Split('=', 2))
                .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "");
        return Repo.Map(env, $"{service} environment")
            .ToDictionary(kv => kv.Key.ToString()!, kv => kv.Value?.ToString() ?? "");
    }

    private static List<(string Source, string Target)> Volumes(string service)
    {
        var s = Service(service);
        if (!s.TryGetValue("volumes", out var v)) return [];
        return Repo.List(v, $"{service} volumes").Select(x =>
        {
            if (x is Dictionary<object, object> m) return (Repo.Str(m, "source") ?? "", Repo.Str(m, "target") ?? "");
            var parts = x.ToString()!.Split(':');
            return (parts[0], parts.Length > 1 ? parts[1] : parts[0]);
        }).ToList();
    }

    [Fact]
    public void Three_silos_each_advertising_its_own_service_name()
    {
        var silos = Silos();
        Assert.Equal(["silo1", "silo2", "silo3"], silos);
        foreach (var s in silos)
            Assert.Equal(s, Environment(s).GetValueOrDefault(SiloEnvironment.Advertise));
    }

    [Fact]
    public void Silo_environment_is_known_complete_and_points_at_the_redis_service()
    {
        foreach (var s in Silos())
        {
            var env = Environment(s);
            foreach (var name in env.Keys.Where(k => k.StartsWith("RICHLAZY_", StringComparison.Ordinal)))
                Assert.True(SiloEnvironment.Variables.ContainsKey(name),
                    $"{s}: {name} is not a variable the silo reads");
            Assert.Equal("true", env.GetValueOrDefault(SiloEnvironment.ListenAny));
            Assert.Equal("0.0.0.0", env.GetValueOrDefault(SiloEnvironment.HttpBind));
            Assert.Equal(SiloEnvironment.DefaultHttpPort.ToString(), env.GetValueOrDefault(SiloEnvironment.HttpPort));
            Assert.True(int.TryParse(env.GetValueOrDefault(SiloEnvironment.Slots), out int slots) && slots >= 1,
                $"{s}: {SiloEnvironment.Slots}");
            Assert.False(env.ContainsKey(SiloEnvironment.Kubernetes), $"{s}: no Kubernetes hosting outside Kubernetes");

            var redis = env.GetValueOrDefault(SiloEnvironment.Redis)
                ?? throw new Xunit.Sdk.XunitException($"{s}: no {SiloEnvironment.Redis}");
            var endpoint = redis.Split(',')[0].Split(':');
            Assert.True(Services.ContainsKey(endpoint[0]),
                $"{s}: {SiloEnvironment.Redis} names {endpoint[0]}, which is no service");
            Assert.StartsWith("redis:", Service(endpoint[0])["image"].ToString());
            Assert.Equal("6379", endpoint.ElementAtOrDefault(1));
            if (env.TryGetValue(SiloEnvironment.SiloPort, out var sp))
                Assert.Equal(SiloEnvironment.DefaultSiloPort.ToString(), sp);
            if (env.TryGetValue(SiloEnvironment.GatewayPort, out var gp))
                Assert.Equal(SiloEnvironment.DefaultGatewayPort.ToString(), gp);
        }
        var redisCommand = Command(Service("redis").GetValueOrDefault("command"));
        Assert.Equal("yes", redisCommand.SkipWhile(a => a != "--appendonly").Skip(1).FirstOrDefault());
    }

    [Fact]
    public void Stop_grace_period_exceeds_the_silo_shutdown_time()
    {
        foreach (var s in Silos())
        {
            int shutdown = Environment(s).TryGetValue(SiloEnvironment.ShutdownSeconds, out var v) ? int.Parse(v)
                : SiloEnvironment.DefaultShutdownSeconds;
            var grace = Repo.Str(Service(s), "stop_grace_period");
            double seconds = grace is null ? 10 : Duration(grace);   // compose's default is 10 s
            Assert.True(seconds > shutdown, $"{s}: stop_grace_period {grace ?? "(default 10s)"} must exceed " +
                $"{SiloEnvironment.ShutdownSeconds} {shutdown}");
        }
    }

    [Fact]
    public void Shared_volume_is_mounted_at_data_by_every_silo_and_the_client()
    {
        var named = Repo.Map(ComposeLazy.Value["volumes"], "volumes").Keys.Select(k => k.ToString()!).ToHashSet();
        var sources = new HashSet<string>();
        foreach (var s in Silos().Append("submit"))
        {
            var data = Assert.Single(Volumes(s), v => v.Target == "/data");
            Assert.True(named.Contains(data.Source), $"{s}: /data is not a named volume ({data.Source})");
            sources.Add(data.Source);
        }
        Assert.Single(sources);
        Assert.DoesNotContain(Assert.Single(sources), Volumes("redis").Select(v => v.Source));
    }

    [Fact]
    public void Only_the_dashboard_silo_publishes_http_and_only_on_loopback()
    {
        Assert.Equal("true", Environment("silo1").GetValueOrDefault(SiloEnvironment.Dashboard));
        // Bound to 0.0.0.0 in its container, the dashboard needs a token or an explicit opt-out to start.
        var silo1 = Environment("silo1");
        Assert.True(silo1.ContainsKey(SiloEnvironment.HttpToken)
            || silo1.GetValueOrDefault(SiloEnvironment.InsecureHttp) == "true", "silo1 would refuse to start");
        foreach (var (name, _) in Services.Select(kv => (kv.Key.ToString()!, kv.Value)))
        {
            var ports = Service(name).TryGetValue("ports", out var p)
                ? Repo.List(p, $"{name} ports").Select(x => x.ToString()!).ToList() : [];
            if (name == "silo1")
                Assert.Equal([$"127.0.0.1:{SiloEnvironment.DefaultHttpPort}:{SiloEnvironment.DefaultHttpPort}"], ports);
            else
                Assert.Empty(ports);
        }
    }

    [Fact]
    public void Silo_healthcheck_asks_the_readiness_endpoint_on_the_http_port()
    {
        foreach (var s in Silos())
        {
            var hc = Repo.MapOrNull(Service(s), "healthcheck");
            if (hc is null) continue;
            var test = string.Join(" ", Command(hc["test"]));
            Assert.Contains($"/dev/tcp/127.0.0.1/{Environment(s)[SiloEnvironment.HttpPort]}", test);
            Assert.Contains($"GET {SiloEnvironment.ReadinessPath} ", test);
        }
    }

    [Fact]
    public void Submit_runs_an_example_spec_on_the_cluster_under_its_profile()
    {
        var submit = Service("submit");
        Assert.Equal(["submit"], Repo.List(submit["profiles"], "profiles").Select(x => x.ToString()));
        var args = Command(submit["command"]);
        Assert.Equal(["sweep", "run"], args.Take(2));

        var specs = Assert.Single(Volumes("submit"), v => args[2].StartsWith(v.Target + "/", StringComparison.Ordinal));
        var specFile =
            Path.GetFullPath(Path.Combine(Repo.PathOf("deploy"), specs.Source, args[2][(specs.Target.Length + 1)..]));
        Assert.True(File.Exists(specFile), $"{args[2]} is {specFile}, which does not exist");
        Assert.StartsWith(Repo.PathOf("deploy", "examples"), specFile);

        var name = Repo.Str(Repo.Map(Repo.Yaml(File.ReadAllText(specFile)), specFile), "name");
        Assert.Equal($"/data/results/{name}", args[args.IndexOf("--out") + 1]);
        var redis = args[args.IndexOf("--redis") + 1];
        Assert.Equal(Environment("silo1")[SiloEnvironment.Redis], redis);
    }

    /// <summary>A compose duration: 90s, 2m, 1m30s, 1h, 500ms.</summary>
    internal static double Duration(string text)
    {
        var matches = DurationPart().Matches(text);
        Assert.True(matches.Count > 0 && string.Concat(matches.Select(m => m.Value)) == text,
            $"`{text}` is not a duration");
        return matches.Sum(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            * m.Groups[2].Value switch
        {
            "h" => 3600, "m" => 60, "s" => 1, "ms" => 1e-3, "us" => 1e-6, _ => throw new FormatException(text),
        });
    }

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(h|ms|us|m|s)")]
    private static partial Regex DurationPart();

    [Fact]
    public void Duration_parser_reads_compose_durations()
    {
        Assert.Equal(90, Duration("90s"));
        Assert.Equal(90, Duration("1m30s"));
        Assert.Equal(7200, Duration("2h"));
        Assert.Equal(0.5, Duration("500ms"));
        Assert.Throws<Xunit.Sdk.TrueException>(() => Duration("2 minutes"));
    }
}
