using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace RichLazyOrleans.Silo;

/// <summary>Clients of a RichLazyOrleans silo or cluster (the CLI's `sweep submit/status/watch/...`).</summary>
public static class ClientSetup
{
    /// <summary>A client of a local silo's gateway (loopback).</summary>
    public static IHost BuildLocalClient(int gatewayPort) =>
        Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleansClient(c => c.UseLocalhostClustering(gatewayPort))
            .Build();

    /// <summary>A client of a Redis cluster: it finds the gateways in Redis (and refreshes the list often, so restarted silos are found).</summary>
    public static IHost BuildRedisClient(string redis) =>
        Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.ClearProviders())
            .UseOrleansClient(c =>
            {
                var options = StackExchange.Redis.ConfigurationOptions.Parse(redis);
                options.AbortOnConnectFail = false;
                c.UseRedisClustering(o => o.ConfigurationOptions = options)
                    .Configure<ClusterOptions>(o => { o.ClusterId = SiloSetup.ClusterId; o.ServiceId = SiloSetup.ClusterId; })
                    .Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            })
            .Build();
}
