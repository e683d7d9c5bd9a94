using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace ExchangeBridge.Client.Tests.Infrastructure;

/// <summary>What the server writes to <c>bootstrap.json</c> on first start.</summary>
public sealed record Bootstrap(string OperatorKey, string TenantKey, string AppId, string AppSecret, string AdminUserId, string AdminOpenId);

/// <summary>
/// The built server run as a real process on a fresh SQLite data folder and a free loopback port, as an operator runs
/// it with <c>--demo</c> (which registers the Exchange admin account <see cref="DemoAdminAccount"/>). This project does
/// not reference the server's code: it reaches it over HTTP only. Readiness is the health endpoint answering.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    /// <summary>The demo's Exchange admin account, registered and verified in the bootstrap tenant.</summary>
    public const string DemoAdminAccount = "email_admin_example@outlook.com";

    private const string CreateBindingRoute = "/open-apis/calendar/v4/exchange_bindings/";
    private static readonly JsonSerializerOptions Snake = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly Process _process;
    private readonly StringBuilder _output = new();

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
    public Bootstrap Bootstrap { get; private set; } = null!;

    /// <param name="settings">
    /// Configuration as environment variables (<c>ExchangeBridge__RateLimits__MethodPerSecond</c>). Import workers are
    /// off unless set: the tests' mailboxes have no Exchange behind them, so bindings stay <c>doing</c> and nothing runs
    /// in the background.
    /// </param>
    public static async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var dataDir = Directory.CreateTempSubdirectory("exbridge-client-test-").FullName;
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServerDll)!,
        };
        foreach (var arg in new[] { ServerDll, "--urls", $"http://127.0.0.1:{port}", "--data-dir", dataDir, "--demo" }) info.ArgumentList.Add(arg);
        info.Environment.Remove("ExchangeBridge__PostgresConnectionString");
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["ExchangeBridge__Import__Workers"] = "0";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) info.Environment[key] = value;

        var server = new ServerProcess(Process.Start(info)!, new Uri($"http://127.0.0.1:{port}"), dataDir);
        server._process.OutputDataReceived += (_, e) => server.Remember(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Remember(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilHealthyAsync();
            server.Bootstrap = JsonSerializer.Deserialize<Bootstrap>(await File.ReadAllTextAsync(Path.Combine(dataDir, "bootstrap.json")), Snake)!;
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilHealthyAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
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
        throw new TimeoutException("the server did not become healthy within a minute");
    }

    /// <summary>Everything the server wrote to standard output and error so far.</summary>
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

    /// <summary>Options for a client of this server as its bootstrap app (user credentials left to the test).</summary>
    public FeishuClientOptions ClientOptions(HttpMessageHandler? transport = null) =>
        new() { BaseAddress = BaseAddress, AppId = Bootstrap.AppId, AppSecret = Bootstrap.AppSecret, Transport = transport };

    public ExchangeBridgeOperatorClient OperatorClient() => new(Bootstrap.OperatorKey, new FeishuClientOptions { BaseAddress = BaseAddress });

    /// <summary>The super administrator's tokens, through a code minted by the operator API (Feishu's login page, here).</summary>
    public async Task<UserTokens> SuperAdminTokensAsync()
    {
        using var client = new FeishuClient(ClientOptions());
        return await client.ExchangeAuthorizationCodeAsync(await MintCodeAsync(Bootstrap.AdminOpenId));
    }

    /// <summary>A client acting as the super administrator, its user token obtained from a fresh code.</summary>
    public async Task<FeishuClient> SuperAdminClientAsync(FeishuClientOptions? options = null)
    {
        var client = new FeishuClient(options ?? ClientOptions());
        await client.ExchangeAuthorizationCodeAsync(await MintCodeAsync(Bootstrap.AdminOpenId));
        return client;
    }

    public async Task<string> MintCodeAsync(string openId)
    {
        using var operatorClient = OperatorClient();
        return (await operatorClient.MintAuthorizationCodeAsync(new MintAuthorizationCodeRequest(Bootstrap.AppId, openId))).Code;
    }

    /// <summary>Creates users of the bootstrap tenant with these user_ids (a few at a time, as an import script would).</summary>
    public async Task CreateUsersAsync(IEnumerable<string> userIds)
    {
        using var operatorClient = OperatorClient();
        await Parallel.ForEachAsync(userIds, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (userId, ct) =>
            await operatorClient.CreateUserAsync(Bootstrap.TenantKey, new CreateUserRequest("Employee " + userId, userId), ct));
    }

    /// <summary>Bindings this server inserted since it started (a create answering an existing binding does not count).</summary>
    public Task<long> BindingsCreatedAsync() => MetricAsync(l => l.StartsWith("exchangebridge_bindings_created", StringComparison.Ordinal));

    /// <summary>Create requests this server answered since it started, whatever their outcome.</summary>
    public Task<long> BindingCreateRequestsAsync() => MetricAsync(l =>
        l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
        && l.Contains("http_request_method=\"POST\"", StringComparison.Ordinal)
        && l.Contains($"http_route=\"{CreateBindingRoute}\"", StringComparison.Ordinal));

    /// <summary>The sum of the Prometheus samples whose lines match.</summary>
    private async Task<long> MetricAsync(Func<string, bool> match)
    {
        var metrics = await Http.GetStringAsync("/metrics");
        return metrics.Split('\n').Where(l => !l.StartsWith('#') && match(l))
            .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        Http.Dispose();
        _process.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the dying process: the temp folder is cleaned another day.
        }
    }

    /// <summary>The server built beside the tests (same configuration), found from the repository root.</summary>
    public static string ServerDll => RepositoryFile("src", "ExchangeBridge.Server", "ExchangeBridge.Server.dll");

    /// <summary>A project's built output under the repository root, in the configuration the tests were built in.</summary>
    public static string RepositoryFile(string folder, string project, string file)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = testBin.Parent!.Name; // …/bin/<Configuration>/net10.0/
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ExchangeBridge.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        var path = Path.Combine(root.FullName, folder, project, "bin", configuration, "net10.0", file);
        return File.Exists(path) ? path : throw new FileNotFoundException($"build {project} first", path);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
