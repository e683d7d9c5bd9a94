using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ExchangeBridge.Server.Hosting;

namespace ExchangeBridge.Tests.Infrastructure;

/// <summary>
/// The built server run as a real process (for restarts, kills and several instances side by side), on a free
/// loopback port. Readiness is the health endpoint answering.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process, Uri baseAddress, string dataDir)
    {
        _process = process;
        BaseAddress = baseAddress;
        DataDir = dataDir;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }
    public string DataDir { get; }
    public HttpClient Http { get; }
    public bool HasExited => _process.HasExited;
    public int ProcessId => _process.Id;

    public static async Task<ServerProcess> StartAsync(string dataDir, IReadOnlyDictionary<string, string>? environment = null, bool demo = true)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServerDll)!,
        };
        foreach (var arg in new[] { ServerDll, "--urls", $"http://127.0.0.1:{port}", "--data-dir", dataDir }) info.ArgumentList.Add(arg);
        if (demo) info.ArgumentList.Add("--demo");
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;

        var process = Process.Start(info)!;
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}"), dataDir);
        process.OutputDataReceived += (_, e) => server.Remember(e.Data);
        process.ErrorDataReceived += (_, e) => server.Remember(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilHealthyAsync();
        return server;
    }

    /// <summary>Polls the health endpoint until it answers (readiness, not a timed wait), for at most a minute.</summary>
    private async Task WaitUntilHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the server exited with code {_process.ExitCode}:\n{string.Join('\n', _output)}");
            try
            {
                if ((await Http.GetAsync("/healthz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("the server did not become healthy within a minute");
    }

    /// <summary>Everything the process wrote to its standard output and error so far.</summary>
    public string Output
    {
        get
        {
            lock (_log) return _log.ToString();
        }
    }

    private readonly System.Text.StringBuilder _log = new();

    /// <summary>Keeps the whole log (tests read it) and the last lines apart, for a failing start's message.</summary>
    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
        _output.Enqueue(line);
        while (_output.Count > 200) _output.TryDequeue(out _);
    }

    public BootstrapFile ReadBootstrap() =>
        JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(DataDir, "bootstrap.json")),
            ExchangeBridge.Server.Wire.FeishuJsonContext.Default.BootstrapFile)!;

    /// <summary>The process's resident memory (VmRSS), in bytes.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>SIGKILL: no shutdown, no flush, as a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        Http.Dispose();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The server built beside the tests (same configuration), found from the repository root.</summary>
    public static string ServerDll
    {
        get
        {
            var testBin = new DirectoryInfo(AppContext.BaseDirectory);
            var configuration = testBin.Parent!.Name; // …/bin/<Configuration>/net10.0/
            var root = testBin;
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "ExchangeBridge.sln"))) root = root.Parent;
            if (root is null) throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
            var dll = Path.Combine(root.FullName, "src", "ExchangeBridge.Server", "bin", configuration, "net10.0", "ExchangeBridge.Server.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("build the server first", dll);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A test that needs PostgreSQL (EXBRIDGE_TEST_POSTGRES): skipped, and said so, where there is none.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabases.OnPostgres) Skip = "needs a PostgreSQL server: set EXBRIDGE_TEST_POSTGRES (CI does)";
    }
}

/// <summary>The theory form of <see cref="PostgresFactAttribute"/>.</summary>
public sealed class PostgresTheoryAttribute : TheoryAttribute
{
    public PostgresTheoryAttribute()
    {
        if (!TestDatabases.OnPostgres) Skip = "needs a PostgreSQL server: set EXBRIDGE_TEST_POSTGRES (CI does)";
    }
}

/// <summary>A test that needs PostgreSQL and Redis (EXBRIDGE_TEST_REDIS).</summary>
public sealed class PostgresAndRedisFactAttribute : FactAttribute
{
    public static string? Redis => Environment.GetEnvironmentVariable("EXBRIDGE_TEST_REDIS") is { Length: > 0 } s ? s : null;

    public PostgresAndRedisFactAttribute()
    {
        if (!TestDatabases.OnPostgres || Redis is null)
            Skip = "needs PostgreSQL and Redis: set EXBRIDGE_TEST_POSTGRES and EXBRIDGE_TEST_REDIS (CI does)";
    }
}
