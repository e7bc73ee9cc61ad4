using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;

namespace MultiModal.Tests.Testing;

/// <summary>Scrapes a process's <c>GET /metrics</c> (Telemetry:PrometheusPort) until the series a test expects are there.</summary>
public static class PrometheusScrape
{
    /// <summary>
    /// Scrapes until every pattern matches, and returns that scrape; fails after the default timeout with what was
    /// missing. The exporter collects at scrape time (and caches for 300 ms), and server metrics are recorded when a
    /// request ends, which may be just after the client has its answer: hence scraping until, not once.
    /// </summary>
    public static async Task<string> UntilAsync(int port, params string[] patterns)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TaskExtensions.DefaultTimeoutSpan;
        while (true)
        {
            string text;
            try
            {
                text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            }
            catch (HttpRequestException e) when (DateTime.UtcNow < deadline)
            {
                text = e.Message;                                                                 // not listening yet
            }
            var missing = patterns.Where(p => !Regex.IsMatch(text, p, RegexOptions.Multiline)).ToList();
            if (missing.Count == 0)
                return text;
            Assert.True(DateTime.UtcNow < deadline, $"no {string.Join(", ", missing)} on port {port}:\n{text}");
            await Task.Delay(200);
        }
    }

    /// <summary>A TCP port free on the loopback interface now (for a child process's metrics listener).</summary>
    public static int FreePort() => LoopbackPorts.Free();
}
