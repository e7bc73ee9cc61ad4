using System.Net;
using System.Net.Sockets;

namespace MultiModal.Tests.Testing;

/// <summary>Loopback TCP ports for child processes and for destinations that must refuse connections.</summary>
public static class LoopbackPorts
{
    /// <summary>A port free on the loopback interface now (another process may take it later).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The URL of a port that was free a moment ago and has nothing listening: connections are refused at once.</summary>
    public static string ClosedUrl() => $"http://127.0.0.1:{Free()}";
}
