using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Identity;

/// <summary>Every way a bearer token can be wrong, each answered with the gateway's code.</summary>
public sealed class BearerTokenTests() : ServerTests(new TestServer())
{
    private const string BindingPath =
        "/open-apis/calendar/v4/exchange_bindings/ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";


    private async Task Refused(string? authorization, int code)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, BindingPath);
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        await JsonAssert.ErrorAsync(await Server.Http.SendAsync(request), 400, code);
    }

    [Fact]
    public Task Missing_token_is_99991661() => Refused(null, 99991661);

    [Fact]
    public async Task A_token_whose_tenant_is_not_its_apps_is_190006()
    {
        var user = await Server.AdminUserTokenAsync();
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, "/admin/v1/tenants", """{"name":"Elsewhere","tenant_key":"elsewhere"}""",
            Server.Bootstrap.OperatorKey));
        // The API never issues such a token; a database restored from mixed backups could hold one.
        await Server.Services.GetRequiredService<IDatabase>().WriteAsync(Touched.Rows(TouchedKinds.Apps), (c, tx, _) =>
            c.ExecuteAsync("UPDATE apps SET tenant_key = 'elsewhere' WHERE app_id = @appId", new { appId = Server.Bootstrap.AppId }, tx));
        var refused = await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, BindingPath, null, user), 403, 190006);
        Assert.Equal("wrong unit for app tenant", refused["msg"]!.GetValue<string>());
        Assert.NotNull(refused["error"]!["troubleshooter"]);
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    [InlineData("Bearer    ")]
    [InlineData("t-7f1b******8e560")]
    public Task Malformed_authorization_is_99991661(string header) => Refused(header, 99991661);

    [Theory]
    [InlineData("Bearer t-7f1b******8e560", 99991663)]
    [InlineData("Bearer t-doesnotexist", 99991663)]
    [InlineData("Bearer a-doesnotexist", 99991664)]
    [InlineData("Bearer u-doesnotexist", 99991668)]
    [InlineData("Bearer ur-arefreshtoken", 99991663)]
    [InlineData("Bearer eyJhbGciOiJub25lIn0.e30.", 99991663)]
    public Task Unknown_tokens_are_refused_by_kind(string header, int code) => Refused(header, code);

    [Fact]
    public async Task A_tenant_token_on_a_user_token_endpoint_is_99991663()
    {
        await Refused("Bearer " + await Server.TenantTokenAsync(), 99991663);
    }

    [Fact]
    public async Task A_user_token_on_an_app_token_endpoint_is_refused_as_unsupported()
    {
        var userToken = await Server.AdminUserTokenAsync();
        var response = await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            """{"grant_type":"authorization_code","code":"x"}""", userToken);
        var body = await JsonAssert.ErrorAsync(response, 400, 99991668);
        Assert.Equal("user access token not support", body["msg"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_expired_user_token_is_99991677_and_an_expired_tenant_token_99991663()
    {
        var userToken = await Server.AdminUserTokenAsync();
        var tenantToken = await Server.TenantTokenAsync();
        Server.Clock.Advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));
        await Refused("Bearer " + userToken, 99991677);
        var response = await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            """{"grant_type":"authorization_code","code":"x"}""", tenantToken);
        await JsonAssert.ErrorAsync(response, 400, 99991663);
    }

    [Fact]
    public async Task Tokens_of_a_deleted_app_stop_working()
    {
        var app = await Server.PostJsonAsync($"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/apps", new { name = "doomed" }, Server.Bootstrap.OperatorKey);
        var (appId, secret) = (app["data"]!["app_id"]!.GetValue<string>(), app["data"]!["app_secret"]!.GetValue<string>());
        var admin = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/users/admin",
            null, Server.Bootstrap.OperatorKey));
        var (userToken, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(admin["data"]!.AsObject(), appId), appId, secret);

        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Delete, $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/apps/{appId}",
            null, Server.Bootstrap.OperatorKey));
        await Refused("Bearer " + userToken, 99991668);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal",
            $$"""{"app_id":"{{appId}}","app_secret":"{{secret}}"}"""), 200, 10003);
    }

    [Fact]
    public async Task An_app_without_the_scope_is_99991672_naming_the_scopes()
    {
        var app = await Server.PostJsonAsync($"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/apps",
            new { name = "narrow", scopes = new[] { "contact:user.base:readonly" } }, Server.Bootstrap.OperatorKey);
        var (appId, secret) = (app["data"]!["app_id"]!.GetValue<string>(), app["data"]!["app_secret"]!.GetValue<string>());
        var admin = await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/users/admin",
            null, Server.Bootstrap.OperatorKey));
        var (userToken, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(admin["data"]!.AsObject(), appId), appId, secret);

        var response = await Server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"a@b.com","user_id":"x"}""", userToken);
        var body = await JsonAssert.ErrorAsync(response, 400, 99991672);
        Assert.Contains("calendar:exchange.bindings:create", body["msg"]!.GetValue<string>());
        Assert.Equal("action_scope_required", body["error"]!["permission_violations"]![0]!["type"]!.GetValue<string>());
    }
}
