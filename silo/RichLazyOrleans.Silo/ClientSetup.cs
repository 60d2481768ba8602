using RichLazyOrleans.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace RichLazyOrleans.Silo;

/// <summary>Clients of a RichLazyOrleans silo or cluster (the CLI's `sweep submit/status/watch/...`).</summary>
public static class ClientSetup
{
    /// <summary>A client of a local silo's gateway (loopback); with <paramref name="tls"/>, over mutual TLS.</summary>
    public static IHost BuildLocalClient(int gatewayPort, TlsConfig? tls = null)
    {
        var loaded = tls is null ? null : SiloTls.Load(tls);   // a bad certificate fails here, before connecting
        return Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleansClient(c =>
            {
                c.UseLocalhostClustering(gatewayPort);
                if (loaded is not null) c.UseRichLazyTls(loaded);
            })
            .Build();
    }

    /// <summary>A client of a Redis cluster: it finds the gateways in Redis (and refreshes the list often, so
    /// restarted silos are found).</summary>
    public static IHost BuildRedisClient(string redis, TlsConfig? tls = null)
    {
        var loaded = tls is null ? null : SiloTls.Load(tls);
        return Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleansClient(c =>
            {
                if (loaded is not null) c.UseRichLazyTls(loaded);
                var options = StackExchange.Redis.ConfigurationOptions.Parse(redis);
                options.AbortOnConnectFail = false;
                c.UseRedisClustering(o => o.ConfigurationOptions = options)
                    .Configure<ClusterOptions>(o =>
                    {
                        o.ClusterId = SiloSetup.ClusterId;
                        o.ServiceId = SiloSetup.ClusterId;
                    })
                    .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            })
            .Build();
    }
}
