using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// DNS rebinding (issue 23): a page on another site whose name is made to resolve to 127.0.0.1 makes the browser
/// call the silo's loopback listener with that site's name in the Host header. A listener on loopback answers only
/// its own names (and configured ones), so such a page never reads a sweep's files.
/// </summary>
public class SiloHostHeaderTests
{

    [Fact]
    public void Allowed_hosts_are_the_listeners_own_names_on_loopback_and_localhost_binds()
    {
        var loopback = SiloHttp.AllowedHosts(new SiloConfig { HttpBind = "127.0.0.1" }, "")!;
        Assert.Contains("localhost", loopback);
        Assert.Contains("[::1]", loopback);
        Assert.DoesNotContain("evil.example", loopback);
        Assert.Contains("lab.example", SiloHttp.AllowedHosts(new SiloConfig(), " Lab.Example ,")!);
        Assert.Null(SiloHttp.AllowedHosts(new SiloConfig { HttpBind = "0.0.0.0" }, ""));   // the token guards it
        Assert.Equal(IPAddress.Loopback, SiloHttp.BindAddress("localhost"));
        var e = Assert.Throws<SpecException>(() => SiloHttp.BindAddress("my-host"));
        Assert.Contains("--http-bind must be an IP address", e.Message);
    }

    [Fact]
    public async Task A_loopback_listener_refuses_a_foreign_host_header()
    {
        int port = ClusterHarness.FreePort(), gateway = ClusterHarness.FreePort(), http = ClusterHarness.FreePort();
        string root = Directory.CreateTempSubdirectory("rl-host-").FullName;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "richlazy.dll"));
        foreach (var a in new[] { "silo", "--port", $"{port}", "--gateway", $"{gateway}", "--http-port", $"{http}",
                     "--http-bind", "localhost", "--results-root", root, "--data-root", root })
            psi.ArgumentList.Add(a);
        using var silo = Process.Start(psi)!;
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}") };
            HttpResponseMessage health = null!;
            for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(300))
            {
                try { health = await client.GetAsync("/healthz"); break; }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !silo.HasExited) { }
            }
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            foreach (var (host, expected) in new[] { ("evil.example", HttpStatusCode.MisdirectedRequest),
                         ("localhost", HttpStatusCode.OK), ("127.0.0.1", HttpStatusCode.OK) })
            {
                var request = new HttpRequestMessage(HttpMethod.Get, "/sweeps");
                request.Headers.Host = $"{host}:{http}";
                var response = await client.SendAsync(request);
                Assert.True(expected == response.StatusCode, $"Host {host}: {response.StatusCode}");
            }
        }
        finally
        {
            silo.Kill(entireProcessTree: true);
            silo.WaitForExit(10_000);
        }
    }
}
