using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Server.Admin;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// A worker killed with SIGKILL in the middle of an import: the job's lease runs out, another worker (after a restart,
/// or another instance on the same PostgreSQL) takes it over, and the import finishes with no duplicate and no gap.
/// Through each connector: over Graph the resumed page is a stored next link (or window offset) of the delta.
/// </summary>
public sealed class KillMidImportTests
{
    private const string Admin = SimulatedConnector.Admin;
    private const string Mailbox = "alisa@contoso.com";
    private const int Items = 3000;

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["ExchangeBridge__Import__Workers"] = "1",
        ["ExchangeBridge__Import__PageSize"] = "50",
        ["ExchangeBridge__Import__LeaseSeconds"] = "5",
        ["ExchangeBridge__Import__RequestTimeoutSeconds"] = "4", // shorter than the lease, as the server requires
        ["ExchangeBridge__Import__PollMilliseconds"] = "50",
        ["ExchangeBridge__RateLimits__Enabled"] = "false",
    };

    public static TheoryData<string> Connectors => [AdminAccounts.Ews, AdminAccounts.Graph];

    private static SimulatedConnector ConnectorNamed(string name) => name == AdminAccounts.Graph ? SimulatedConnector.Graph : SimulatedConnector.Ews;

    private static async Task<SimulatorHost> MailboxAsync(SimulatedConnector connector)
    {
        var simulator = await SimulatorHost.StartAsync();
        connector.Grant(simulator.Store);
        simulator.Store.Generate(simulator.Store.DefaultFolder(Mailbox), Items, DateTimeOffset.UtcNow);
        return simulator;
    }

    /// <summary>The test's settings plus what a server process needs to reach the simulator through the connector.</summary>
    private static Dictionary<string, string> SettingsFor(SimulatedConnector connector, SimulatorHost simulator, IReadOnlyDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>(Settings);
        foreach (var (key, value) in connector.ProcessEnvironment(simulator).Concat(extra ?? new Dictionary<string, string>())) settings[key] = value;
        return settings;
    }

    [Theory]
    [MemberData(nameof(Connectors))]
    public async Task A_restart_after_a_kill_mid_import_finishes_with_no_duplicate_and_no_gap(string connectorName)
    {
        var connector = ConnectorNamed(connectorName);
        await using var simulator = await MailboxAsync(connector);
        var settings = SettingsFor(connector, simulator);
        var dataDir = Directory.CreateTempSubdirectory("exbridge-kill-").FullName;
        var first = await ServerProcess.StartAsync(dataDir, settings, demo: false);
        var world = await BindAsync(first, first, simulator, connector);
        await WaitForImportingAsync(first, world, minimumEvents: 300);
        first.Kill();
        await first.DisposeAsync();

        await using var second = await ServerProcess.StartAsync(dataDir, settings, demo: false);
        Assert.Equal("done", await WaitForStatusAsync(second, world));
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDir, "exchangebridge.db")}");
        var (total, distinct) = await db.QuerySingleAsync<(long, long)>("SELECT COUNT(*), COUNT(DISTINCT exchange_item_id) FROM events");
        var expected = simulator.Store.CountImportableEvents(simulator.Store.DefaultFolder(Mailbox));
        Assert.Equal((expected, expected), ((int)total, (int)distinct));
    }

    [PostgresTheory]
    [MemberData(nameof(Connectors))]
    public async Task A_job_whose_instance_is_killed_mid_import_finishes_on_the_other(string connectorName)
    {
        var connector = ConnectorNamed(connectorName);
        await using var simulator = await MailboxAsync(connector);
        var database = TestDatabases.CreatePostgresDatabase()!;
        var settings = SettingsFor(connector, simulator, new Dictionary<string, string>
        {
            ["ExchangeBridge__PostgresConnectionString"] = database,
            ["ExchangeBridge__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        });
        var a = await ServerProcess.StartAsync(Directory.CreateTempSubdirectory("exbridge-a-").FullName, settings, demo: false);
        var b = await ServerProcess.StartAsync(Directory.CreateTempSubdirectory("exbridge-b-").FullName, settings, demo: false);
        try
        {
            var world = await BindAsync(a, a, simulator, connector);
            var owner = await WaitForImportingAsync(a, world, minimumEvents: 300);
            var (victim, survivor) = owner.StartsWith($"{a.ProcessId}:", StringComparison.Ordinal) ? (a, b) : (b, a);
            victim.Kill();

            Assert.Equal("done", await WaitForStatusAsync(survivor, world));
            var diagnostics = await DiagnosticsAsync(survivor, world);
            var expected = simulator.Store.CountImportableEvents(simulator.Store.DefaultFolder(Mailbox));
            Assert.Equal(expected, diagnostics["calendars"]![0]!["events"]!.GetValue<long>());
            await using var connection = new Npgsql.NpgsqlConnection(database);
            var (total, distinct) = await connection.QuerySingleAsync<(long, long)>("SELECT COUNT(*), COUNT(DISTINCT exchange_item_id) FROM events");
            Assert.Equal((expected, expected), ((int)total, (int)distinct));
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
            TestDatabases.DropPostgresDatabase(database);
        }
    }

    /// <summary>
    /// The admin account switched to the other connector in the middle of an import and the worker killed at once: the
    /// restarted server resumes through the new connector from what the old one committed (a window offset, or a sync
    /// state the new one refuses and replaces), and nothing is imported twice. On PostgreSQL when the suite runs there.
    /// </summary>
    [Theory]
    [MemberData(nameof(ConnectorSwitchTests.Switches), MemberType = typeof(ConnectorSwitchTests))]
    public async Task A_worker_killed_at_a_switch_of_connector_leaves_no_duplicate_after_the_restart(string from, string to)
    {
        var (before, after) = (ConnectorNamed(from), ConnectorNamed(to));
        await using var simulator = await MailboxAsync(before);
        after.Grant(simulator.Store);
        var database = TestDatabases.CreatePostgresDatabase();
        var extra = new Dictionary<string, string>(after.ProcessEnvironment(simulator));
        if (database is not null)
        {
            extra["ExchangeBridge__PostgresConnectionString"] = database;
            extra["ExchangeBridge__MasterKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        }
        var settings = SettingsFor(before, simulator, extra);
        var dataDir = Directory.CreateTempSubdirectory("exbridge-switch-").FullName;
        try
        {
            var first = await ServerProcess.StartAsync(dataDir, settings, demo: false);
            var world = await BindAsync(first, first, simulator, before);
            await WaitForImportingAsync(first, world, minimumEvents: 300);
            var switched = await Send(first, HttpMethod.Put, $"/admin/v1/tenants/{world.TenantKey}/exchange_admin_accounts/{Admin}",
                after.AccountBody(simulator), world.OperatorKey);
            Assert.Equal(to, switched["data"]!["connector"]!.GetValue<string>());
            first.Kill();
            await first.DisposeAsync();

            await using var second = await ServerProcess.StartAsync(dataDir, settings, demo: false);
            Assert.Equal("done", await WaitForStatusAsync(second, world));
            var expected = simulator.Store.CountImportableEvents(simulator.Store.DefaultFolder(Mailbox));
            Assert.Equal(expected, (await DiagnosticsAsync(second, world))["calendars"]![0]!["events"]!.GetValue<long>());
        }
        finally
        {
            TestDatabases.DropPostgresDatabase(database);
        }
    }

    private sealed record World(string OperatorKey, string TenantKey, string AdminToken, string BindingId);

    private static async Task<World> BindAsync(ServerProcess server, ServerProcess bootstrapped, SimulatorHost simulator, SimulatedConnector connector)
    {
        var bootstrap = bootstrapped.Bootstrap;
        var user = await Send(server, HttpMethod.Post, $"/admin/v1/tenants/{bootstrap.TenantKey}/users", new { user_id = "alisa", name = "Alisa" }, bootstrap.OperatorKey);
        var openId = user["data"]!["open_ids"]![0]!["open_id"]!.GetValue<string>();
        var account = await Send(server, HttpMethod.Put, $"/admin/v1/tenants/{bootstrap.TenantKey}/exchange_admin_accounts/{Admin}",
            connector.AccountBody(simulator), bootstrap.OperatorKey);
        Assert.Equal("verified", account["data"]!["verification_state"]!.GetValue<string>());
        var code = await Send(server, HttpMethod.Post, "/admin/v1/authorization_codes", new { app_id = bootstrap.AppId, open_id = bootstrap.AdminOpenId }, bootstrap.OperatorKey);
        var tenant = await Send(server, HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", new { app_id = bootstrap.AppId, app_secret = bootstrap.AppSecret });
        var token = (await Send(server, HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = code["data"]!["code"]!.GetValue<string>() }, tenant["tenant_access_token"]!.GetValue<string>()))
            ["data"]!["access_token"]!.GetValue<string>();
        var created = await Send(server, HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            new { admin_account = Admin, exchange_account = Mailbox, user_id = openId }, token);
        Assert.Equal(0, created["code"]!.GetValue<int>());
        return new World(bootstrap.OperatorKey, bootstrap.TenantKey, token, ExchangeBindingId.Encode(Admin, Mailbox));
    }

    /// <summary>Waits (bounded) until the import is under way and part done; returns the lease owner running it.</summary>
    private static async Task<string> WaitForImportingAsync(ServerProcess server, World world, int minimumEvents)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            var diagnostics = await DiagnosticsAsync(server, world);
            var imported = diagnostics["calendars"]!.AsArray().Sum(c => c!["events"]!.GetValue<long>());
            var owner = diagnostics["jobs"]![0]!["lease_owner"]?.GetValue<string>();
            Assert.NotEqual("done", diagnostics["status"]!.GetValue<string>());
            if (imported >= minimumEvents && owner is not null) return owner;
            await Task.Delay(10);
        }
        throw new TimeoutException("the import did not get under way");
    }

    private static async Task<string> WaitForStatusAsync(ServerProcess server, World world)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        var status = "";
        while (DateTime.UtcNow < deadline)
        {
            status = (await DiagnosticsAsync(server, world))["status"]!.GetValue<string>();
            if (status is "done" or "err") return status;
            await Task.Delay(50);
        }
        return status;
    }

    private static async Task<JsonObject> DiagnosticsAsync(ServerProcess server, World world) =>
        (await Send(server, HttpMethod.Get, $"/admin/v1/tenants/{world.TenantKey}/exchange_bindings?exchange_binding_id={Uri.EscapeDataString(world.BindingId)}",
            null, world.OperatorKey))["data"]!.AsObject();

    private static async Task<JsonObject> Send(ServerProcess server, HttpMethod method, string path, object? body, string? bearer = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await server.Http.SendAsync(request);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }
}
