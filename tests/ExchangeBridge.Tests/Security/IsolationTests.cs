using System.Text.Json.Nodes;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Security;

/// <summary>
/// Cross-tenant and cross-role attempts, each refused with its documented code and without a word about the other
/// tenant's data. One world is built once: tenant A (the bootstrap tenant, with a binding) and tenant B.
/// </summary>
public sealed class IsolationTests() : ServerTests(new TestServer())
{
    private const string Bindings = "/open-apis/calendar/v4/exchange_bindings";
    private const string SecretAccount = "email_account_example@outlook.com";
    private const string AId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";

    private readonly Dictionary<string, string> _tokens = [];
    private string _aEmployeeOpenId = "", _aEmployeeUnionId = "", _aRefresh = "";
    private string _bAppId = "", _bAppSecret = "";

    public override async Task InitializeAsync()
    {
        var key = Server.Bootstrap.OperatorKey;
        var a = Server.Bootstrap.TenantKey;
        (_tokens["a_admin"], _aRefresh) = await Server.UserTokensAsync();
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, Bindings,
            $$"""{"admin_account":"email_admin_example@outlook.com","exchange_account":"{{SecretAccount}}","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""", _tokens["a_admin"]));

        var employee = await Server.CreateUserAsync("a_employee");
        _aEmployeeOpenId = TestServer.OpenIdOf(employee, Server.Bootstrap.AppId);
        _aEmployeeUnionId = employee["union_id"]!.GetValue<string>();
        (_tokens["a_employee"], _) = await Server.UserTokensAsync(_aEmployeeOpenId);
        var resigned = await Server.CreateUserAsync("a_resigned_admin", superAdmin: true);
        (_tokens["a_resigned"], _) = await Server.UserTokensAsync(TestServer.OpenIdOf(resigned, Server.Bootstrap.AppId));
        await Server.SendAsync(HttpMethod.Patch, $"/admin/v1/tenants/{a}/users/a_resigned_admin", """{"resigned":true}""", key);
        _tokens["a_tenant"] = await Server.TenantTokenAsync();
        _tokens["a_app"] = (await Server.PostJsonAsync("/open-apis/auth/v3/app_access_token/internal",
            new { app_id = Server.Bootstrap.AppId, app_secret = Server.Bootstrap.AppSecret }))["app_access_token"]!.GetValue<string>();

        // A second app of tenant A: the admin's open_id for the first app means nothing to it.
        var second = (await Server.PostJsonAsync($"/admin/v1/tenants/{a}/apps", new { name = "second" }, key))["data"]!;
        var admin = (await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, $"/admin/v1/tenants/{a}/users/admin", null, key)))["data"]!.AsObject();
        (_tokens["a_second_app_admin"], _) = await Server.UserTokensAsync(TestServer.OpenIdOf(admin, second["app_id"]!.GetValue<string>()),
            second["app_id"]!.GetValue<string>(), second["app_secret"]!.GetValue<string>());

        // A doomed app whose tokens must die with it.
        var doomed = (await Server.PostJsonAsync($"/admin/v1/tenants/{a}/apps", new { name = "doomed" }, key))["data"]!;
        admin = (await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, $"/admin/v1/tenants/{a}/users/admin", null, key)))["data"]!.AsObject();
        (_tokens["a_deleted_app"], _) = await Server.UserTokensAsync(TestServer.OpenIdOf(admin, doomed["app_id"]!.GetValue<string>()),
            doomed["app_id"]!.GetValue<string>(), doomed["app_secret"]!.GetValue<string>());
        await Server.SendAsync(HttpMethod.Delete, $"/admin/v1/tenants/{a}/apps/{doomed["app_id"]!.GetValue<string>()}", null, key);

        // Tenant B with its own super administrator and Exchange admin account.
        await Server.PostJsonAsync("/admin/v1/tenants", new { name = "B", tenant_key = "tenant_b" }, key);
        var bApp = (await Server.PostJsonAsync("/admin/v1/tenants/tenant_b/apps", new { name = "b" }, key))["data"]!;
        (_bAppId, _bAppSecret) = (bApp["app_id"]!.GetValue<string>(), bApp["app_secret"]!.GetValue<string>());
        var bAdmin = await Server.CreateUserAsync("b_admin", superAdmin: true, tenantKey: "tenant_b");
        (_tokens["b_admin"], _) = await Server.UserTokensAsync(TestServer.OpenIdOf(bAdmin, _bAppId), _bAppId, _bAppSecret);
        _tokens["b_tenant"] = await Server.TenantTokenAsync(_bAppId, _bAppSecret);
    }

    public static TheoryData<string, string, string, string, string?, int, int> Attempts => new()
    {
        // name, token, method, path, body, HTTP status, code
        { "B reads A's binding", "b_admin", "GET", $"{Bindings}/{AId}", null, 404, 195103 },
        { "B deletes A's binding", "b_admin", "DELETE", $"{Bindings}/{AId}", null, 404, 195103 },
        { "B binds through A's admin account", "b_admin", "POST", $"{Bindings}?user_id_type=user_id",
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"x@b.example","user_id":"b_admin"}""", 403, 195104 },
        { "B binds A's employee by open_id", "b_admin", "POST", Bindings,
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"x@b.example","user_id":"{a_employee_open_id}"}""", 404, 195100 },
        { "B binds A's employee by union_id", "b_admin", "POST", $"{Bindings}?user_id_type=union_id",
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"x@b.example","user_id":"{a_employee_union_id}"}""", 404, 195100 },
        { "B binds A's employee by user_id", "b_admin", "POST", $"{Bindings}?user_id_type=user_id",
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"x@b.example","user_id":"a_employee"}""", 404, 195100 },
        { "another app's open_id", "a_second_app_admin", "POST", Bindings,
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"x@a.example","user_id":"{a_employee_open_id}"}""", 404, 195100 },
        { "a non-admin creates", "a_employee", "POST", Bindings,
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"x@a.example","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""", 403, 195101 },
        { "a non-admin reads", "a_employee", "GET", $"{Bindings}/{AId}", null, 403, 195101 },
        { "a non-admin deletes", "a_employee", "DELETE", $"{Bindings}/{AId}", null, 403, 195101 },
        { "a resigned admin creates", "a_resigned", "POST", Bindings,
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"x@a.example","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""", 404, 195100 },
        { "a resigned admin reads", "a_resigned", "GET", $"{Bindings}/{AId}", null, 404, 195100 },
        { "a tenant token creates", "a_tenant", "POST", Bindings, "{}", 400, 99991663 },
        { "a tenant token reads", "a_tenant", "GET", $"{Bindings}/{AId}", null, 400, 99991663 },
        { "an app token deletes", "a_app", "DELETE", $"{Bindings}/{AId}", null, 400, 99991664 },
        { "a forged user token", "forged", "GET", $"{Bindings}/{AId}", null, 400, 99991668 },
        { "a real token with one character changed", "tampered", "GET", $"{Bindings}/{AId}", null, 400, 99991668 },
        { "a deleted app's token", "a_deleted_app", "GET", $"{Bindings}/{AId}", null, 400, 99991668 },
        { "B opens A's calendar by guessing its id", "b_admin", "GET", "/open-apis/calendar/v4/calendars/feishu.cn_000000000000000000000000@group.calendar.feishu.cn", null, 403, 191002 },
        { "B's tenant token (an app without the bot capability) lists calendars", "b_tenant", "GET", "/open-apis/calendar/v4/calendars", null, 404, 190007 },
        { "no operator key on the operator API", "none", "GET", "/admin/v1/tenants", null, 401, 40100 },
        { "a user token on the operator API", "a_admin", "GET", "/admin/v1/tenants", null, 401, 40100 },
    };

    [Theory]
    [MemberData(nameof(Attempts))]
    public async Task Each_attempt_is_refused_and_reveals_nothing(string name, string who, string method, string path, string? body,
        int status, int code)
    {
        var token = who switch
        {
            "none" => null,
            "forged" => "u-" + new string('Z', 43),
            "tampered" => _tokens["a_admin"][..^1] + (_tokens["a_admin"][^1] == 'A' ? 'B' : 'A'),
            _ => _tokens[who],
        };
        body = body?.Replace("{a_employee_open_id}", _aEmployeeOpenId).Replace("{a_employee_union_id}", _aEmployeeUnionId);
        var response = await Server.SendAsync(new HttpMethod(method), path, body, token);
        var json = status == 200 ? await JsonAssert.SuccessAsync(response) : await JsonAssert.ErrorAsync(response, status, code);
        Assert.False(json.ToJsonString().Contains(SecretAccount), $"{name}: the answer names tenant A's account");
        if (status == 200) Assert.Empty(json["data"]!["calendar_list"]!.AsArray());
    }

    [Fact]
    public async Task A_code_or_refresh_token_of_one_app_buys_nothing_for_another()
    {
        var code = await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            $$"""{"grant_type":"authorization_code","code":"{{code}}"}""", _tokens["b_tenant"]), 200, 20024);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/refresh_access_token",
            $$"""{"grant_type":"refresh_token","refresh_token":"{{_aRefresh}}"}""", _tokens["b_tenant"]), 200, 20024);
        // The refused attempt did not spend the code: its own app still can.
        var redeemed = await Server.PostJsonAsync("/open-apis/authen/v1/oidc/access_token", new { grant_type = "authorization_code", code },
            _tokens["a_tenant"]);
        Assert.Equal(0, redeemed["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_expired_user_token_is_refused()
    {
        Server.Clock.Advance(TimeSpan.FromHours(3));
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Bindings}/{AId}", null, _tokens["a_admin"]), 400, 99991677);
    }
}
