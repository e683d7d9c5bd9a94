using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ExchangeBridge.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Infrastructure;

/// <summary>
/// Which database the suite runs on: SQLite in each test's data folder, or, when EXBRIDGE_TEST_POSTGRES holds a
/// connection string to a PostgreSQL server (CI starts one), a fresh database per test on it.
/// </summary>
public static class TestDatabases
{
    public static string? PostgresAdmin => Environment.GetEnvironmentVariable("EXBRIDGE_TEST_POSTGRES") is { Length: > 0 } s ? s : null;

    public static bool OnPostgres => PostgresAdmin is not null;

    public static void DropPostgresDatabase(string? connectionString)
    {
        if (PostgresAdmin is not { } admin || connectionString is null) return;
        var name = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database;
        using var connection = new Npgsql.NpgsqlConnection(admin);
        connection.Open();
        using var drop = connection.CreateCommand();
        drop.CommandText = $"DROP DATABASE IF EXISTS {name} WITH (FORCE)";
        drop.ExecuteNonQuery();
    }

    public static string? CreatePostgresDatabase()
    {
        if (PostgresAdmin is not { } admin) return null;
        var name = "exbridge_test_" + Guid.NewGuid().ToString("N")[..16];
        using var connection = new Npgsql.NpgsqlConnection(admin);
        connection.Open();
        using var create = connection.CreateCommand();
        create.CommandText = $"CREATE DATABASE {name}";
        create.ExecuteNonQuery();
        // Tests run in parallel, each with its own pool: keep each small so the server's connection limit holds.
        return new Npgsql.NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 8 }.ConnectionString;
    }
}

/// <summary>A clock the tests move by hand, so expiry is tested without waiting.</summary>
public sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// A real server (the full pipeline on a real SQLite database in a temporary data folder) hosted in-process,
/// with helpers that act as an SDK would: tokens from the token endpoints, codes from the operator API. Its caches
/// are on, as in production (a test that needs one off says so in its settings).
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program>? _factory;
    private readonly WebApplication? _composed;
    private readonly bool _ownsDatabase;
    private readonly bool _ownsDataDir;

    /// <param name="services">extra test services (e.g. a Graph HttpClient that trusts the simulator's certificate).</param>
    /// <param name="afterPipeline">
    /// a test's own steps between the request pipeline and the endpoints, where a later change to <c>Program.cs</c>
    /// would add middleware or endpoint conventions; given, the server is composed from the same <c>Hosting</c> calls
    /// <c>Program.cs</c> makes, with these steps between them.
    /// </param>
    public TestServer(string? dataDir = null, bool demo = true, IReadOnlyDictionary<string, string?>? settings = null,
        string? postgresConnectionString = null, Action<IServiceCollection>? services = null,
        Func<WebApplication, IEndpointRouteBuilder>? afterPipeline = null)
    {
        _ownsDataDir = dataDir is null;
        DataDir = dataDir ?? Directory.CreateTempSubdirectory("exbridge-test-").FullName;
        _ownsDatabase = postgresConnectionString is null;
        PostgresConnectionString = postgresConnectionString ?? TestDatabases.CreatePostgresDatabase();
        var allSettings = new Dictionary<string, string?>
        {
            ["ExchangeBridge:DataDir"] = DataDir,
            ["ExchangeBridge:Demo"] = demo ? "true" : "false",
            // API tests see bindings as they were created; import tests turn the worker on.
            ["ExchangeBridge:Import:Workers"] = "0",
        };
        if (PostgresConnectionString is not null) allSettings["ExchangeBridge:PostgresConnectionString"] = PostgresConnectionString;
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) allSettings[key] = value;
        void TestServices(IServiceCollection collection)
        {
            collection.AddSingleton<TimeProvider>(Clock);
            services?.Invoke(collection);
        }

        if (afterPipeline is null)
        {
            _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
            {
                foreach (var (key, value) in allSettings) web.UseSetting(key, value);
                web.ConfigureTestServices(TestServices);
            });
            Http = _factory.CreateClient();
        }
        else
        {
            _composed = Compose(allSettings, TestServices, afterPipeline);
            Http = _composed.GetTestClient();
        }
        Bootstrap = JsonSerializer.Deserialize(File.ReadAllText(Path.Combine(DataDir, "bootstrap.json")),
            ExchangeBridge.Server.Wire.FeishuJsonContext.Default.BootstrapFile)!;
    }

    /// <summary>What <c>Program.cs</c> does, in its order, on the test host, with the test's steps after the pipeline.</summary>
    private static WebApplication Compose(Dictionary<string, string?> settings, Action<IServiceCollection> services,
        Func<WebApplication, IEndpointRouteBuilder> afterPipeline)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddExchangeBridge(builder.Configuration);
        services(builder.Services);
        var app = builder.Build();
        app.Services.GetRequiredService<Bootstrapper>().RunAsync(CancellationToken.None).GetAwaiter().GetResult();
        app.UseExchangeBridgePipeline();
        afterPipeline(app).MapExchangeBridgeEndpoints();
        app.StartAsync().GetAwaiter().GetResult();
        return app;
    }

    public string DataDir { get; }

    /// <summary>The test's own PostgreSQL database when the suite runs on PostgreSQL (see <see cref="TestDatabases"/>); else null: SQLite.</summary>
    public string? PostgresConnectionString { get; }
    public ManualClock Clock { get; } = new();
    public HttpClient Http { get; }
    public BootstrapFile Bootstrap { get; }
    public IServiceProvider Services => _factory?.Services ?? _composed!.Services;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        if (_composed is not null) await _composed.DisposeAsync();
        if (_ownsDatabase) TestDatabases.DropPostgresDatabase(PostgresConnectionString);
        // The host is gone, so nothing writes there any more (on Linux a file a pooled handle still holds goes with it).
        if (_ownsDataDir) Directory.Delete(DataDir, recursive: true);
    }

    public async Task<JsonObject> PostJsonAsync(string path, object body, string? bearer = null) =>
        await ReadAsync(await SendAsync(HttpMethod.Post, path, JsonSerializer.Serialize(body), bearer));

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body = null, string? bearer = null,
        string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return Http.SendAsync(request);
    }

    /// <summary>A client whose requests come from <paramref name="source"/> (the in-process host has no network to take one from).</summary>
    public HttpClient ClientFrom(System.Net.IPAddress source)
    {
        var host = _factory?.Server ?? _composed!.GetTestServer();
        return new(host.CreateHandler(context => context.Connection.RemoteIpAddress = source)) { BaseAddress = host.BaseAddress };
    }

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

    public async Task<string> TenantTokenAsync(string? appId = null, string? appSecret = null)
    {
        var answer = await PostJsonAsync("/open-apis/auth/v3/tenant_access_token/internal",
            new { app_id = appId ?? Bootstrap.AppId, app_secret = appSecret ?? Bootstrap.AppSecret });
        return answer["tenant_access_token"]!.GetValue<string>();
    }

    public async Task<string> MintCodeAsync(string openId, string? appId = null)
    {
        var answer = await PostJsonAsync("/admin/v1/authorization_codes", new { app_id = appId ?? Bootstrap.AppId, open_id = openId },
            Bootstrap.OperatorKey);
        return answer["data"]!["code"]!.GetValue<string>();
    }

    /// <summary>A user token as an app would get one: a code from the login page (the operator API here), redeemed with the tenant token.</summary>
    public async Task<(string AccessToken, string RefreshToken)> UserTokensAsync(string? openId = null, string? appId = null,
        string? appSecret = null)
    {
        var code = await MintCodeAsync(openId ?? Bootstrap.AdminOpenId, appId);
        var answer = await PostJsonAsync("/open-apis/authen/v1/oidc/access_token", new { grant_type = "authorization_code", code },
            await TenantTokenAsync(appId, appSecret));
        Assert.True(answer["code"]!.GetValue<int>() == 0, answer.ToJsonString());
        return (answer["data"]!["access_token"]!.GetValue<string>(), answer["data"]!["refresh_token"]!.GetValue<string>());
    }

    public async Task<string> AdminUserTokenAsync() => (await UserTokensAsync()).AccessToken;

    /// <summary>Creates a user in a tenant through the operator API; returns its open_id for the given app.</summary>
    public async Task<JsonObject> CreateUserAsync(string userId, bool superAdmin = false, string? tenantKey = null)
    {
        var answer = await PostJsonAsync($"/admin/v1/tenants/{tenantKey ?? Bootstrap.TenantKey}/users",
            new { user_id = userId, name = userId, is_super_admin = superAdmin }, Bootstrap.OperatorKey);
        Assert.True(answer["code"]!.GetValue<int>() == 0, answer.ToJsonString());
        return answer["data"]!.AsObject();
    }

    public static string OpenIdOf(JsonObject user, string appId) =>
        user["open_ids"]!.AsArray().First(o => o!["app_id"]!.GetValue<string>() == appId)!["open_id"]!.GetValue<string>();
}

public static class JsonAssert
{
    /// <summary>Asserts the platform's error answer: HTTP status, code, and a log id equal to the header's.</summary>
    public static async Task<JsonObject> ErrorAsync(HttpResponseMessage response, int httpStatus, int code)
    {
        var body = await TestServer.ReadAsync(response);
        Assert.True((int)response.StatusCode == httpStatus && body["code"]!.GetValue<int>() == code,
            $"expected HTTP {httpStatus} code {code}, got HTTP {(int)response.StatusCode} {body.ToJsonString()}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var logId = response.Headers.GetValues("X-Tt-Logid").Single();
        Assert.Equal(logId, body["error"]?["log_id"]?.GetValue<string>());
        return body;
    }

    public static async Task<JsonObject> SuccessAsync(HttpResponseMessage response)
    {
        var body = await TestServer.ReadAsync(response);
        Assert.True(response.IsSuccessStatusCode && body["code"]!.GetValue<int>() == 0,
            $"expected success, got HTTP {(int)response.StatusCode} {body.ToJsonString()}");
        return body;
    }
}
