using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ExchangeBridge.Testing;

/// <summary>What the server writes to <c>bootstrap.json</c> on the first start of an empty data folder.</summary>
public sealed record Bootstrap(
    string OperatorKey, string TenantKey, string AppId, string AppSecret, string AdminUserId, string AdminUnionId, string AdminOpenId);

/// <summary>How a test starts the server.</summary>
public sealed record ServerLaunch
{
    /// <summary>
    /// <c>--data-dir</c> as typed (a relative one is the server's to resolve); null: a fresh temporary folder, deleted
    /// with the server.
    /// </summary>
    public string? DataDir { get; init; }

    /// <summary><c>--demo</c>: the seed page's example admin account and user, served by the built-in simulator.</summary>
    public bool Demo { get; init; } = true;

    /// <summary>Configuration as environment variables (<c>ExchangeBridge__TokenCacheSeconds</c>).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>The folder the command is started in; null: the server's build folder.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The loopback port to listen on; null: a free one.</summary>
    public int? Port { get; init; }

    /// <summary>
    /// Start it as a newcomer does, <c>dotnet run --project src/ExchangeBridge.Server</c> (with <c>--no-build</c>: the
    /// test run built it), instead of running the built dll.
    /// </summary>
    public bool ThroughDotnetRun { get; init; }
}

/// <summary>
/// The built server run as a real process (for restarts, kills, several instances side by side, and refused starts),
/// on a loopback port. Readiness is the health endpoint answering. It references none of the server's code: it reaches
/// the server over HTTP and through its data folder only.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>The demo's Exchange admin account, registered and verified in the bootstrap tenant by <c>--demo</c>.</summary>
    public const string DemoAdminAccount = "email_admin_example@outlook.com";

    private static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly bool _ownsDataDir;
    private Bootstrap? _bootstrap;

    private ServerProcess(Process process, Uri baseAddress, string dataDir, bool ownsDataDir)
    {
        _process = process;
        _ownsDataDir = ownsDataDir;
        BaseAddress = baseAddress;
        DataDir = dataDir;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        _process.OutputDataReceived += (_, e) => Remember(e.Data);
        _process.ErrorDataReceived += (_, e) => Remember(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }

    /// <summary>The data folder's full path.</summary>
    public string DataDir { get; }

    public HttpClient Http { get; }
    public bool HasExited => _process.HasExited;
    public int ProcessId => _process.Id;

    /// <summary>The data folder's bootstrap.json (on PostgreSQL, only the instance that bootstrapped has one).</summary>
    public Bootstrap Bootstrap => _bootstrap ??=
        JsonSerializer.Deserialize<Bootstrap>(File.ReadAllText(Path.Combine(DataDir, "bootstrap.json")), Snake)!;

    public static Task<ServerProcess> StartAsync(string? dataDir = null, IReadOnlyDictionary<string, string>? environment = null, bool demo = true) =>
        StartAsync(new ServerLaunch { DataDir = dataDir, Environment = environment, Demo = demo });

    public static async Task<ServerProcess> StartAsync(ServerLaunch launch)
    {
        var server = Launch(launch);
        try
        {
            await server.WaitUntilHealthyAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a server expected to refuse to start: its exit code and everything it wrote, within a minute.</summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(ServerLaunch launch)
    {
        await using var server = Launch(launch);
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await server._process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the server did not exit within a minute:\n{server.Output}");
        }
        return (server._process.ExitCode, server.Output);
    }

    private static ServerProcess Launch(ServerLaunch launch)
    {
        var port = launch.Port ?? FreePort();
        var workingDirectory = launch.WorkingDirectory ?? Path.GetDirectoryName(ServerDll)!;
        var ownsDataDir = launch.DataDir is null;
        var dataDir = launch.DataDir ?? Directory.CreateTempSubdirectory("exbridge-test-").FullName;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        IEnumerable<string> program = launch.ThroughDotnetRun
            ? ["run", "--no-build", "-c", Configuration, "--project", ServerProject, "--"]
            : [ServerDll];
        foreach (var arg in program.Concat(["--urls", $"http://127.0.0.1:{port}", "--data-dir", dataDir])) info.ArgumentList.Add(arg);
        if (launch.Demo) info.ArgumentList.Add("--demo");
        // The test says which database: not a developer's shell.
        info.Environment.Remove("ExchangeBridge__PostgresConnectionString");
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in launch.Environment ?? new Dictionary<string, string>()) info.Environment[key] = value;

        return new ServerProcess(Process.Start(info)!, new Uri($"http://127.0.0.1:{port}"), Path.GetFullPath(dataDir, workingDirectory), ownsDataDir);
    }

    /// <summary>Polls the health endpoint until it answers (readiness, not a timed wait), for at most two minutes.</summary>
    private async Task WaitUntilHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the server exited with code {_process.ExitCode}:\n{Output}");
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
        throw new TimeoutException($"the server did not become healthy within two minutes:\n{Output}");
    }

    /// <summary>Sends a JSON request and answers the HTTP status with the platform's <c>code</c> from the envelope.</summary>
    public async Task<(int Status, int Code)> StatusAndCodeAsync(HttpMethod method, string path, object? body = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await Http.SendAsync(request);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return ((int)response.StatusCode, json["code"]!.GetValue<int>());
    }

    /// <summary>Everything the process wrote to its standard output and error so far.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    /// <summary>The process's resident memory (VmRSS), in bytes.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
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
        if (_ownsDataDir)
        {
            try
            {
                Directory.Delete(DataDir, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open by the dying process: the temp folder is cleaned another day.
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>The server built beside the tests (same configuration).</summary>
    public static string ServerDll => RepositoryFile("src", "ExchangeBridge.Server", "ExchangeBridge.Server.dll");

    private static string ServerProject => Path.Combine(RepositoryRoot, "src", "ExchangeBridge.Server", "ExchangeBridge.Server.csproj");

    /// <summary>The configuration the tests were built in (…/bin/&lt;Configuration&gt;/net10.0/).</summary>
    public static string Configuration => new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    /// <summary>The clone the tests run from: the folder of ExchangeBridge.sln above the tests' build folder.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "ExchangeBridge.sln"))) root = root.Parent;
            return root?.FullName ?? throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A project's built output under the repository root, in the configuration the tests were built in.</summary>
    public static string RepositoryFile(string folder, string project, string file)
    {
        var path = Path.Combine(RepositoryRoot, folder, project, "bin", Configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"build {project} first", path);
    }

    /// <summary>A port free at the time of asking.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
