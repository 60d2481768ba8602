using RichLazyOrleans.Engine;
using System.Net;
using System.Net.Sockets;

namespace RichLazyOrleans.Silo;

/// <summary>A port another process holds: the silo must not start (one line, exit 2).</summary>
public sealed class PortInUseException(string message) : Exception(message);

/// <summary>
/// Refuses to start a silo on ports already in use. Orleans binds its listeners with address reuse (on Linux
/// .NET's ReuseAddress is SO_REUSEPORT), so a second silo on the same ports used to start and share them with
/// the first: clients then reached either at random, and a sweep submitted twice ran on both. A probe socket
/// without reuse fails to bind while anyone listens there, which is the check (there is a short window between
/// the probe and Orleans' own bind; two silos started in the same millisecond are not caught).
/// </summary>
public static class SiloPorts
{
    public static void EnsureFree(SiloConfig config)
    {
        var address = config.ListenAny || config.Kubernetes
            ? IPAddress.Any
            : SiloSetup.ResolveAdvertised(config.Advertise);
        Probe(address, config.SiloPort, "--port (silo-to-silo)");
        Probe(address, config.GatewayPort, "--gateway (clients)");
        int? http = config.HttpPort ?? (config.Dashboard ? SiloEnvironment.DefaultHttpPort : null);
        if (http is { } h) Probe(SiloHttp.BindAddress(config.HttpBind), h, "--http-port");
    }

    public static void Probe(IPAddress address, int port, string what)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
        try { socket.Bind(new IPEndPoint(address, port)); }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse
            or SocketError.AccessDenied)
        {
            throw new PortInUseException($"{what} {port} on {address} is already in use (another silo?); "
                + "choose free ports or stop the process holding it");
        }
    }
}
