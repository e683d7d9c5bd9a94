using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Admin;

public sealed class AdminApiTests() : ServerTests(new TestServer(demo: false))
{

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer ok-wrong")]
    [InlineData("Bearer ")]
    public async Task Every_operator_call_needs_the_operator_key(string? authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/tenants");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        await JsonAssert.ErrorAsync(await Server.Http.SendAsync(request), 401, 40100);
    }

    [Fact]
    public async Task A_user_token_is_not_an_operator_key()
    {
        var userToken = await Server.AdminUserTokenAsync();
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, "/admin/v1/tenants", null, userToken), 401, 40100);
    }

    [Fact]
    public async Task Tenants_apps_and_users_are_managed_and_each_user_gets_an_open_id_per_app()
    {
        var key = Server.Bootstrap.OperatorKey;
        var tenant = await Server.PostJsonAsync("/admin/v1/tenants", new { name = "Contoso", tenant_key = "contoso" }, key);
        Assert.Equal("contoso", tenant["data"]!["tenant_key"]!.GetValue<string>());
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/admin/v1/tenants",
            """{"name":"again","tenant_key":"contoso"}""", key), 409, 40900);

        var user = await Server.CreateUserAsync("alisa", tenantKey: "contoso");
        Assert.StartsWith("on_", user["union_id"]!.GetValue<string>());
        Assert.Empty(user["open_ids"]!.AsArray());

        var app = await Server.PostJsonAsync("/admin/v1/tenants/contoso/apps", new { name = "Calendar sync" }, key);
        var appId = app["data"]!["app_id"]!.GetValue<string>();
        Assert.StartsWith("cli_", appId);
        Assert.Equal(32, app["data"]!["app_secret"]!.GetValue<string>().Length);

        var reread = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, "/admin/v1/tenants/contoso/users/alisa", null, key));
        Assert.StartsWith("ou_", TestServer.OpenIdOf(reread["data"]!.AsObject(), appId));

        var updated = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Patch, "/admin/v1/tenants/contoso/users/alisa",
            """{"is_super_admin": true, "resigned": true}""", key));
        Assert.True(updated["data"]!["is_super_admin"]!.GetValue<bool>());
        Assert.True(updated["data"]!["resigned"]!.GetValue<bool>());

        var tenants = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, "/admin/v1/tenants", null, key));
        Assert.Equal(2, tenants["data"]!["items"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("/admin/v1/tenants", """{"name": 5}""")]
    [InlineData("/admin/v1/tenants", """{"name": "x", "tenant_key": "has space"}""")]
    [InlineData("/admin/v1/tenants/nope/users", """{"name": "x"}""")]
    public async Task Bad_operator_requests_are_refused_in_the_envelope(string path, string body)
    {
        var response = await Server.SendAsync(HttpMethod.Post, path, body, Server.Bootstrap.OperatorKey);
        Assert.True((int)response.StatusCode is 400 or 404);
        var json = await TestServer.ReadAsync(response);
        Assert.NotEqual(0, json["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Exchange_admin_accounts_never_show_their_secret_and_belong_to_one_tenant()
    {
        var key = Server.Bootstrap.OperatorKey;
        var put = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Put,
            $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/exchange_admin_accounts/svc@contoso.com",
            """{"connector":"ews","endpoint":"http://127.0.0.1:9/EWS/Exchange.asmx","username":"CONTOSO\\svc","password":"hunter2"}""", key));
        Assert.DoesNotContain("hunter2", put.ToJsonString());
        Assert.Equal("svc@contoso.com", put["data"]!["email"]!.GetValue<string>());
        Assert.NotNull(put["data"]!["verification_error"]);

        await Server.PostJsonAsync("/admin/v1/tenants", new { name = "Other", tenant_key = "other" }, key);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Put, "/admin/v1/tenants/other/exchange_admin_accounts/svc@contoso.com",
            """{"connector":"ews","endpoint":"http://127.0.0.1:9/EWS/Exchange.asmx","password":"x"}""", key), 409, 40900);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, "/admin/v1/tenants/other/exchange_admin_accounts/svc@contoso.com",
            null, key), 404, 40400);
    }
}
