using System.Text.Json;
using System.Text.Json.Nodes;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// An in-process server with its import worker on, an employee, and an Exchange admin account of one connector registered
/// against the simulator; it binds the employee's mailbox and reads the result as an SDK would, through the Open API
/// (the employee's calendars and events) and the operator API (the binding's diagnostics).
/// </summary>
public sealed class ImportWorld : IAsyncDisposable
{
    public const string Admin = SimulatedConnector.Admin;
    public const string Mailbox = "alisa@contoso.com";

    /// <summary>The Monday the tests' mailboxes are built around; the server's clock stands on the Friday before.</summary>
    public static readonly DateTimeOffset Monday = new(2026, 11, 30, 1, 0, 0, TimeSpan.Zero);

    private string _adminToken = "", _employeeToken = "", _employeeOpenId = "";

    private ImportWorld(TestServer server, SimulatorHost simulator, SimulatedConnector connector)
    {
        Server = server;
        Simulator = simulator;
        Connector = connector;
    }

    public TestServer Server { get; }
    public SimulatorHost Simulator { get; }
    public SimulatedConnector Connector { get; }
    public string BindingId => ExchangeBindingId.Encode(Admin, Mailbox);
    public string EmployeeOpenId => _employeeOpenId;
    public string AdminToken => _adminToken;
    public string EmployeeToken => _employeeToken;

    /// <summary>Grants the connector's admin account in the simulator, starts a server and registers the account (verified).</summary>
    /// <param name="settings">import settings of the test's own, over the world's (one worker, quick polls, small pages).</param>
    public static async Task<ImportWorld> StartAsync(SimulatorHost simulator, SimulatedConnector connector,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        connector.Grant(simulator.Store);
        simulator.Store.AddMailbox(Mailbox);
        var merged = new Dictionary<string, string?>
        {
            ["ExchangeBridge:Import:Workers"] = "1",
            ["ExchangeBridge:Import:PollMilliseconds"] = "20",
            ["ExchangeBridge:Import:PageSize"] = "7", // several pages even for a small mailbox
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) merged[key] = value;
        var server = new TestServer(demo: false, settings: merged, services: s =>
        {
            // Both connectors reach the simulator, so a test may switch the admin account from one to the other.
            SimulatedConnector.Ews.ConfigureServer(s, simulator);
            SimulatedConnector.Graph.ConfigureServer(s, simulator);
        });
        var world = new ImportWorld(server, simulator, connector);
        server.Clock.Advance(Monday.AddDays(-3) - server.Clock.GetUtcNow());
        world._adminToken = await server.AdminUserTokenAsync();
        var employee = await server.CreateUserAsync("alisa");
        world._employeeOpenId = TestServer.OpenIdOf(employee, server.Bootstrap.AppId);
        (world._employeeToken, _) = await server.UserTokensAsync(world._employeeOpenId);
        var registered = await world.RegisterAdminAsync(connector.AccountBody(simulator));
        Assert.True(registered["verification_state"]!.GetValue<string>() == "verified", registered.ToJsonString());
        return world;
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();

    /// <summary>PUTs the admin account through the operator API; returns its view (verification state and error).</summary>
    public async Task<JsonObject> RegisterAdminAsync(Dictionary<string, object?> body) =>
        (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Put,
            $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/exchange_admin_accounts/{Admin}", JsonSerializer.Serialize(body),
            Server.Bootstrap.OperatorKey)))["data"]!.AsObject();

    public Task<HttpResponseMessage> CreateBindingAsync(string mailbox = Mailbox) =>
        Server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            $$"""{"admin_account":"{{Admin}}","exchange_account":"{{mailbox}}","user_id":"{{_employeeOpenId}}"}""", _adminToken);

    public async Task BindAsync()
    {
        var created = await JsonAssert.SuccessAsync(await CreateBindingAsync());
        Assert.Equal("doing", created["data"]!["status"]!.GetValue<string>());
    }

    /// <summary>Binds <paramref name="mailbox"/> (already in the simulator) for a new employee of its own; returns the binding's id.</summary>
    public async Task<string> BindForNewEmployeeAsync(string mailbox, string userId)
    {
        var employee = TestServer.OpenIdOf(await Server.CreateUserAsync(userId), Server.Bootstrap.AppId);
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            $$"""{"admin_account":"{{Admin}}","exchange_account":"{{mailbox}}","user_id":"{{employee}}"}""", _adminToken));
        return ExchangeBindingId.Encode(Admin, mailbox);
    }

    /// <summary>
    /// A second tenant, with an app, a super administrator and an EWS admin account of its own registered against the
    /// simulator; binds <paramref name="mailboxes"/> (added to the simulator) for new employees of it and returns their
    /// binding ids.
    /// </summary>
    public async Task<List<string>> BindInOtherTenantAsync(string tenantKey, string admin, string password, IEnumerable<string> mailboxes)
    {
        var operatorKey = Server.Bootstrap.OperatorKey;
        await Server.PostJsonAsync("/admin/v1/tenants", new { name = tenantKey, tenant_key = tenantKey }, operatorKey);
        var app = (await Server.PostJsonAsync($"/admin/v1/tenants/{tenantKey}/apps", new { name = "sync" }, operatorKey))["data"]!;
        var (appId, appSecret) = (app["app_id"]!.GetValue<string>(), app["app_secret"]!.GetValue<string>());
        var boss = await Server.CreateUserAsync("boss", superAdmin: true, tenantKey: tenantKey);
        var (bossToken, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(boss, appId), appId, appSecret);
        Simulator.Store.AddAdmin(admin, password);
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Put, $"/admin/v1/tenants/{tenantKey}/exchange_admin_accounts/{admin}",
            new JsonObject { ["connector"] = "ews", ["endpoint"] = Simulator.Endpoint.ToString(), ["password"] = password,
                ["allow_cleartext_password"] = true }.ToJsonString(), // the simulator speaks plain http
            operatorKey));
        var bound = new List<string>();
        foreach (var mailbox in mailboxes)
        {
            Simulator.Store.AddMailbox(mailbox);
            var user = await Server.CreateUserAsync($"employee{bound.Count}", tenantKey: tenantKey);
            await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
                new JsonObject { ["admin_account"] = admin, ["exchange_account"] = mailbox, ["user_id"] = TestServer.OpenIdOf(user, appId) }
                    .ToJsonString(), bossToken));
            bound.Add(ExchangeBindingId.Encode(admin, mailbox));
        }
        return bound;
    }

    public Task<HttpResponseMessage> UnbindAsync() =>
        Server.SendAsync(HttpMethod.Delete, $"/open-apis/calendar/v4/exchange_bindings/{BindingId}", null, _adminToken);

    /// <summary>Polls the binding until its status is one of <paramref name="wanted"/> (readiness, bounded to a minute).</summary>
    public async Task<string> WaitForStatusAsync(params string[] wanted)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        string status = "";
        JsonObject got = [];
        while (DateTime.UtcNow < deadline)
        {
            got = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, $"/open-apis/calendar/v4/exchange_bindings/{BindingId}", null, _adminToken));
            status = got["data"]?["status"]?.GetValue<string>() ?? "";
            if (wanted.Contains(status)) return status;
            await Task.Delay(50); // well under the 50 requests per second the method allows
        }
        // Say why: the last answer and what the operator API knows of the job.
        throw new TimeoutException($"status stayed '{status}': {got.ToJsonString()}; diagnostics: {(await DiagnosticsAsync()).ToJsonString()}");
    }

    /// <summary>Polls the operator diagnostics of a binding until <paramref name="until"/> holds (bounded to a minute).</summary>
    public async Task<JsonObject> WaitForDiagnosticsAsync(Func<JsonObject, bool> until, string? bindingId = null)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        JsonObject diagnostics;
        while (!until(diagnostics = await DiagnosticsAsync(bindingId)) && DateTime.UtcNow < deadline) await Task.Delay(20);
        return diagnostics;
    }

    public async Task<JsonObject> DiagnosticsAsync(string? bindingId = null) =>
        (await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get,
            $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/exchange_bindings?exchange_binding_id={Uri.EscapeDataString(bindingId ?? BindingId)}",
            null, Server.Bootstrap.OperatorKey)))["data"]!.AsObject();

    /// <summary>Every event of a calendar, paged through the Open API (three at a time unless told).</summary>
    public async Task<List<JsonObject>> EventsAsync(string calendarId, int pageSize = 3)
    {
        var events = new List<JsonObject>();
        var token = "";
        do
        {
            var page = (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get,
                $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events?page_size={pageSize}&page_token={Uri.EscapeDataString(token)}",
                null, _employeeToken)))["data"]!;
            events.AddRange(page["items"]!.AsArray().Select(i => i!.AsObject()));
            token = page["page_token"]!.GetValue<string>();
        } while (token.Length > 0);
        return events;
    }

    /// <summary>One event; <paramref name="query"/> (e.g. "need_attendee=true") is added as it is.</summary>
    public async Task<JsonObject> EventAsync(string calendarId, string eventId, string query = "") =>
        (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get,
            $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events/{eventId}?{query}", null, _employeeToken)))["data"]!["event"]!.AsObject();

    /// <summary>The events of a calendar that touch [from, to), as the list's start_time/end_time select them.</summary>
    public async Task<List<JsonObject>> EventsBetweenAsync(string calendarId, DateTimeOffset from, DateTimeOffset to) =>
        (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get,
            $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events?page_size=1000&start_time={from.ToUnixTimeSeconds()}&end_time={to.ToUnixTimeSeconds()}",
            null, _employeeToken)))["data"]!["items"]!.AsArray().Select(i => i!.AsObject()).ToList();

    public async Task<List<JsonObject>> CalendarsAsync() =>
        (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, _employeeToken)))
            ["data"]!["calendar_list"]!.AsArray().Select(c => c!.AsObject()).ToList();

    /// <summary>
    /// Lets the binding's import run attempt after attempt, moving the server's clock to each next attempt as soon as the
    /// previous one has been recorded, until <paramref name="until"/> holds for the diagnostics (bounded to a minute).
    /// <paramref name="meanwhile"/> sees every diagnostics read on the way (to check what must hold throughout).
    /// </summary>
    public async Task<JsonObject> RunAttemptsUntilAsync(Func<JsonObject, bool> until, Action<JsonObject>? meanwhile = null)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            var diagnostics = await DiagnosticsAsync();
            meanwhile?.Invoke(diagnostics);
            if (until(diagnostics)) return diagnostics;
            var job = diagnostics["jobs"]!.AsArray().FirstOrDefault(j => j!["kind"]!.GetValue<string>() == "import");
            var wait = job is null || job["lease_owner"] is not null ? 0
                : job["run_at"]!.GetValue<long>() - Server.Clock.GetUtcNow().ToUnixTimeMilliseconds();
            if (wait > 0) Server.Clock.Advance(TimeSpan.FromMilliseconds(wait + 1));
            else await Task.Delay(20);
        }
        throw new TimeoutException($"the import never got there: {(await DiagnosticsAsync()).ToJsonString()}");
    }

    /// <summary>Moves the clock to the next incremental sync (SyncIntervalSeconds on) and waits until it has run.</summary>
    public async Task SyncAgainAsync()
    {
        // The attempt that set the status may still be recording itself: start from the job at rest.
        var before = (await WaitForDiagnosticsAsync(d => d["jobs"]![0]!["lease_owner"] is null))["jobs"]![0]!["run_at"]!.GetValue<long>();
        Server.Clock.Advance(TimeSpan.FromSeconds(301));
        await WaitForDiagnosticsAsync(d => d["jobs"]![0]!["run_at"]!.GetValue<long>() != before);
    }
}
