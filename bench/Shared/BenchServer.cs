using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ExchangeBridge.Bench;

/// <summary>
/// What the benchmarks that drive a Release server process share: the simulator in their own process, starting the server,
/// calling it, reading its memory.
/// </summary>
internal static class BenchServer
{
    /// <summary>
    /// The simulator over <paramref name="store"/> on a free loopback port: plain HTTP for EWS, HTTPS with a throw-away
    /// certificate for Graph (which the server is told to trust through SSL_CERT_FILE).
    /// </summary>
    public static async Task<WebApplication> StartSimulatorAsync(MailboxStore store, X509Certificate2? https)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (https is not null) k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(https));
            else k.Listen(IPAddress.Loopback, 0);
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapEwsSimulator(store);
        app.MapGraphSimulator(store);
        await app.StartAsync();
        return app;
    }

    /// <summary>Where a started app listens.</summary>
    public static Uri AddressOf(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    /// <summary>
    /// The server (<paramref name="serverDll"/>) on a free loopback port over <paramref name="dataDir"/>, with
    /// <paramref name="environment"/> set, once its health endpoint answers; the client's base address is the server.
    /// Its console output is dropped, or appended to <paramref name="logFile"/> when one is named (to find out afterwards
    /// what a run's servers did).
    /// </summary>
    public static async Task<(Process Process, HttpClient Http)> StartAsync(string serverDll, string dataDir, IReadOnlyDictionary<string, string> environment,
        string? logFile = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [serverDll, "--urls", $"http://127.0.0.1:{port}", "--data-dir", dataDir])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var process = Process.Start(start)!;
        var log = logFile is null ? null : TextWriter.Synchronized(new StreamWriter(logFile, append: true) { AutoFlush = true });
        process.OutputDataReceived += (_, line) => { if (line.Data is not null) log?.WriteLine(line.Data); };
        process.ErrorDataReceived += (_, line) => { if (line.Data is not null) log?.WriteLine(line.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        for (var ready = false; !ready;)
        {
            if (process.HasExited) throw new InvalidOperationException($"the server over {dataDir} exited with {process.ExitCode}");
            try { ready = (await http.GetAsync("/healthz")).IsSuccessStatusCode; }
            catch (HttpRequestException) { await Task.Delay(50); }
        }
        return (process, http);
    }

    /// <summary>One Open API or operator API call; anything but code 0 throws with the answer.</summary>
    public static async Task<JsonNode> SendAsync(HttpClient http, HttpMethod method, string path, object? body, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await http.SendAsync(request);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (answer["code"]?.GetValue<int>() is not 0) throw new InvalidOperationException($"{method} {path}: {answer.ToJsonString()}");
        return answer;
    }

    /// <summary>VmHWM: the high-water mark of the process's resident set, i.e. its peak memory over the whole run.</summary>
    public static double PeakResidentMb(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0).Single();

    /// <summary>
    /// The bytes the server has allocated since it started: the runtime's own counter (System.Runtime's
    /// dotnet.gc.heap.total_allocated) from its /metrics. Start the server with the scrape cache off
    /// (<see cref="FreshMetrics"/>) so that two reads a moment apart differ.
    /// </summary>
    public static async Task<long> AllocatedBytesAsync(HttpClient http)
    {
        const string Counter = "dotnet_gc_heap_total_allocated_bytes_total";
        var metrics = await http.GetStringAsync("/metrics");
        var line = metrics.Split('\n').Single(l => l.StartsWith(Counter + " ", StringComparison.Ordinal) || l.StartsWith(Counter + "{", StringComparison.Ordinal));
        return long.Parse(line.Split(' ')[1], NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>The server's setting that makes each scrape of /metrics read the counters afresh (they are cached 300 ms by default).</summary>
    public static KeyValuePair<string, string> FreshMetrics => new("OpenTelemetry__Metrics__Prometheus__ScrapeResponseCacheDurationMilliseconds", "0");

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
