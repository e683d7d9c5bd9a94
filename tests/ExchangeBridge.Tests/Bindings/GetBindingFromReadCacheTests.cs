using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Bindings;

/// <summary>
/// GET a binding answered from memory (BindingReadCache, the endpoint's first step once the pipeline has admitted the
/// call): every change the server makes shows at once, and every refusal the pipeline makes still happens, whatever is
/// cached. Validated callers are cached here for longer than a token lives, so a cached caller's token can expire.
/// </summary>
public sealed class GetBindingFromReadCacheTests() : ServerTests(StartServer())
{
    private const string Path = "/open-apis/calendar/v4/exchange_bindings";
    private const string DocumentedId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";
    private const string CreateBody =
        """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""";

    private string _admin = null!;

    public override async Task InitializeAsync()
    {
        _admin = await Server.AdminUserTokenAsync();
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, Path, CreateBody, _admin));
    }

    private static TestServer StartServer(params (string Key, string Value)[] settings) =>
        new(settings: new Dictionary<string, string?>(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))
        {
            ["ExchangeBridge:TokenCacheSeconds"] = "600",
            // Shorter than the caller cache, so a cached caller's token can expire while it is cached.
            ["ExchangeBridge:AccessTokenLifetimeSeconds"] = "300",
        });

    private async Task<string> StatusAsync(string? token = null) =>
        (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, token ?? _admin)))
        ["data"]!["status"]!.GetValue<string>();

    private async Task<long> BindingKeyAsync()
    {
        await using var c = await Server.Services.GetRequiredService<IDatabase>().OpenAsync();
        return await c.ExecuteScalarAsync<long>("SELECT id FROM exchange_bindings WHERE exchange_binding_id = @id", new { id = DocumentedId });
    }

    [Fact]
    public async Task Every_change_the_server_makes_shows_at_once_and_only_the_process_owning_sqlite_keeps_answers()
    {
        Assert.Equal("doing", await StatusAsync());
        Assert.Equal("doing", await StatusAsync());
        var cache = Server.Services.GetRequiredService<BindingReadCache>();
        Assert.Equal(!TestDatabases.OnPostgres, cache.Enabled);

        // A write that declares it touched nothing: the SQLite process answers from memory, PostgreSQL instances never do.
        var database = Server.Services.GetRequiredService<IDatabase>();
        await database.WriteAsync(Touched.Nothing, (c, tx, _) =>
            c.ExecuteAsync("UPDATE exchange_bindings SET status = 'err' WHERE exchange_binding_id = @id", new { id = DocumentedId }, tx));
        Assert.Equal(cache.Enabled ? "doing" : "err", await StatusAsync());

        // The same write declaring the binding it touched is seen at once, with no code anywhere else.
        await database.WriteAsync(Touched.Binding(await BindingKeyAsync()), (c, tx, _) =>
            c.ExecuteAsync("UPDATE exchange_bindings SET status = 'err' WHERE exchange_binding_id = @id", new { id = DocumentedId }, tx));
        Assert.Equal("err", await StatusAsync());

        // The import engine's own status writes are seen at once.
        var calendars = Server.Services.GetRequiredService<CalendarStore>();
        Assert.True(await calendars.SetBindingStatusAsync(await BindingKeyAsync(), "timespan_done", null, 1, CancellationToken.None));
        Assert.Equal("timespan_done", await StatusAsync());
        Assert.Equal("timespan_done", await StatusAsync());

        // Unbound: not found, however often it was read before; bound again: the new binding.
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Delete, $"{Path}/{DocumentedId}", null, _admin));
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, _admin), 404, 195103);
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, Path, CreateBody, _admin));
        Assert.Equal("doing", await StatusAsync());

        // The user's open_id is part of the answer: an operator's change of it shows too.
        var openId = async () => (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, _admin)))
            ["data"]!["user_id"]!.GetValue<string>();
        Assert.Equal("ou_xxxxxxxxxxxxxxxxxx", await openId());
        var admin = Server.Services.GetRequiredService<AdminStore>();
        await admin.SetOpenIdAsync(Server.Bootstrap.TenantKey, Server.Bootstrap.AppId, "demo_employee", "ou_renamed", CancellationToken.None);
        Assert.Equal("ou_renamed", await openId());
    }

    [Fact]
    public async Task A_cached_answer_is_still_refused_to_every_caller_the_pipeline_refuses()
    {
        var key = Server.Bootstrap.OperatorKey;
        var employee = await Server.CreateUserAsync("employee");
        var (employeeToken, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(employee, Server.Bootstrap.AppId));
        var leaver = await Server.CreateUserAsync("leaver", superAdmin: true);
        var (leaverToken, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(leaver, Server.Bootstrap.AppId));
        Assert.Equal("doing", await StatusAsync(leaverToken));
        await Server.SendAsync(HttpMethod.Patch, $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/users/leaver", """{"resigned":true}""", key);
        await Server.PostJsonAsync("/admin/v1/tenants", new { name = "B", tenant_key = "tenant_b" }, key);
        var bApp = (await Server.PostJsonAsync("/admin/v1/tenants/tenant_b/apps", new { name = "b" }, key))["data"]!;
        var (bAppId, bSecret) = (bApp["app_id"]!.GetValue<string>(), bApp["app_secret"]!.GetValue<string>());
        var bAdmin = await Server.CreateUserAsync("b_admin", superAdmin: true, tenantKey: "tenant_b");
        var (bAdminToken, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(bAdmin, bAppId), bAppId, bSecret);

        // Setting users and apps up forgot every answer (open_ids); read it again, so it is cached with the caller.
        Assert.Equal("doing", await StatusAsync());
        Assert.Equal("doing", await StatusAsync());
        Assert.True(Server.Services.GetRequiredService<BindingReadCache>().Count > 0 || TestDatabases.OnPostgres);

        async Task Refused(string? token, int status, int code)
        {
            // Twice: a refusal is never cached into an answer either.
            for (var i = 0; i < 2; i++)
                await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, token), status, code);
        }

        await Refused(null, 400, 99991661);
        await Refused("u-not-a-token", 400, 99991668);
        await Refused(await Server.TenantTokenAsync(), 400, 99991663);
        await Refused(employeeToken, 403, 195101);
        await Refused(leaverToken, 404, 195100);
        await Refused(bAdminToken, 404, 195103);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}?user_id_type=email", null, _admin), 400, 190002);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            $"{Path}/{DocumentedId}?user_id_type=open_id&user_id_type=user_id", null, _admin), 400, 190002);

        // The administrator's own token, cached, stops working when it expires.
        Server.Clock.Advance(TimeSpan.FromSeconds(301));
        await Refused(_admin, 400, 99991677);
    }

    [Fact]
    public async Task Cached_callers_and_app_secrets_leave_memory_once_past_their_time()
    {
        var tokens = Server.Services.GetRequiredService<ExchangeBridge.Server.Identity.TokenService>();
        Assert.True(tokens.TryGetCachedCaller(_admin, out _));
        Assert.Equal(0, tokens.ForgetExpired());

        Server.Clock.Advance(TimeSpan.FromSeconds(601));
        Assert.True(tokens.ForgetExpired() >= 2); // the administrator's and the tenant token's callers, the app
        Assert.False(tokens.TryGetCachedCaller(_admin, out _));
        Assert.Equal(0, tokens.ForgetExpired());
    }

    [Fact]
    public async Task Answers_are_kept_per_user_id_type_and_per_app()
    {
        // A second app of the tenant: its open_ids are its own.
        var key = Server.Bootstrap.OperatorKey;
        var tenant = Server.Bootstrap.TenantKey;
        var second = (await Server.PostJsonAsync($"/admin/v1/tenants/{tenant}/apps", new { name = "second" }, key))["data"]!;
        var secondAppId = second["app_id"]!.GetValue<string>();
        var adminUser = (await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, $"/admin/v1/tenants/{tenant}/users/admin", null, key)))["data"]!.AsObject();
        var (secondAdmin, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(adminUser, secondAppId), secondAppId, second["app_secret"]!.GetValue<string>());
        var employee = (await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, $"/admin/v1/tenants/{tenant}/users/demo_employee", null, key)))["data"]!.AsObject();

        async Task<string> UserId(string query, string? token = null) =>
            (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}{query}", null, token ?? _admin)))
            ["data"]!["user_id"]!.GetValue<string>();

        for (var round = 0; round < 2; round++)
        {
            Assert.Equal("ou_xxxxxxxxxxxxxxxxxx", await UserId(""));
            Assert.Equal("ou_xxxxxxxxxxxxxxxxxx", await UserId("?user_id_type=open_id"));
            Assert.Equal("demo_employee", await UserId("?user_id_type=user_id"));
            Assert.Equal(employee["union_id"]!.GetValue<string>(), await UserId("?user_id_type=union_id"));
            Assert.Equal(TestServer.OpenIdOf(employee, secondAppId), await UserId("", secondAdmin));
        }
    }

    [Fact]
    public async Task Cached_reads_count_against_the_rate_limits_and_carry_the_route_in_metrics()
    {
        await using var server = StartServer(("ExchangeBridge:RateLimits:MethodPerMinute", "5"));
        var token = await server.AdminUserTokenAsync();
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Post, Path, CreateBody, token));

        var statuses = new List<int>();
        for (var i = 0; i < 8; i++) statuses.Add((int)(await server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, token)).StatusCode);
        Assert.Equal([200, 200, 200, 200, 200, 429, 429, 429], statuses);
        await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, token), 429, 190004);

        // Hosts in one test process share meter names, so only the series' shape is asserted, not its count.
        var metrics = await (await server.SendAsync(HttpMethod.Get, "/metrics")).Content.ReadAsStringAsync();
        Assert.Matches(
            """http_server_request_duration_seconds_count\{[^}]*http_response_status_code="200",http_route="/open-apis/calendar/v4/exchange_bindings/\{\*\*exchange_binding_id\}"[^}]*\} \d+""",
            metrics);
    }
}
