using RichLazyOrleans.Engine;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans.Silo;

namespace RichLazyOrleans.Cli.Tests;

/// <summary>
/// The dashboard beyond loopback asks for a token (it showed every grain to anyone who reached the port):
/// a real `richlazy silo` process refuses to start without one, and with one answers 401 until it is given.
/// </summary>
public class SiloHttpCliTests
{
    private const string Token = "0123456789abcdef-test-token";

    [Fact]
    public void Exposure_refuses_an_open_dashboard_beyond_loopback_and_says_who_reaches_what()
    {
        var open = new SiloConfig { HttpBind = "0.0.0.0", Dashboard = true };
        Assert.Contains("--http-token", Assert.Throws<SpecException>(() => SiloHttp.Exposure(open, 8080)).Message);
        Assert.Contains("WARNING --insecure-http", SiloHttp.Exposure(open with { InsecureHttp = true }, 8080));
        Assert.Contains("needs the token", SiloHttp.Exposure(open with { HttpToken = Token }, 8080));
        Assert.Throws<SpecException>(() => SiloHttp.Exposure(open with { HttpToken = "short" }, 8080));
        Assert.Contains("no token", SiloHttp.Exposure(open with { HttpBind = "127.0.0.1" }, 8080));
        Assert.Contains("only", SiloHttp.Exposure(open with { Dashboard = false }, 8080));   // probes only
        Assert.Null(SiloHttp.Exposure(open, null));
    }

    [Fact]
    public async Task A_dashboard_beyond_loopback_needs_the_token_and_the_probes_stay_open()
    {
        int port = ClusterHarness.FreePort(), gateway = ClusterHarness.FreePort(), http = ClusterHarness.FreePort();
        string root = Directory.CreateTempSubdirectory("rl-http-").FullName;
        string[] args = ["silo", "--port", $"{port}", "--gateway", $"{gateway}", "--http-port", $"{http}",
            "--http-bind", "0.0.0.0", "--dashboard", "--results-root", root, "--data-root", root];
        var refused = CliProcess.Run(args);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--http-token", Assert.Single(refused.Stderr.Trim().Split('\n')));

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "richlazy.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment[SiloEnvironment.HttpToken] = Token;   // as a pod gets it from a Secret
        using var silo = Process.Start(psi)!;
        try
        {
            using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
            using var client = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{http}") };
            HttpResponseMessage health = null!;
            for (var deadline = DateTime.UtcNow.AddSeconds(60); ; await Task.Delay(300))
            {
                try { health = await client.GetAsync(SiloEnvironment.LivenessPath); break; }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !silo.HasExited) { }
            }
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);   // probes without the token (kubelet)

            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/dashboard/")).StatusCode);
            var wrong = await Get(client, "/dashboard", "Bearer wrong-token-0123456789");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Get(client, "/dashboard/", $"Bearer {Token}")).StatusCode);
            // A browser: ?token= once sets a cookie and redirects to the page without the token in its address.
            var first = await client.GetAsync($"/dashboard?token={Token}");
            Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
            Assert.DoesNotContain(Token, first.Headers.Location!.ToString());
            string cookie = first.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
            var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
            request.Headers.Add("Cookie", cookie);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(request)).StatusCode);
        }
        finally
        {
            silo.Kill(entireProcessTree: true);
            silo.WaitForExit(10_000);
        }
    }

    private static Task<HttpResponseMessage> Get(HttpClient client, string path, string authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return client.SendAsync(request);
    }
}
