using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Identity;

public sealed class AuthApiTests() : ServerTests(new TestServer())
{

    private string AppId => Server.Bootstrap.AppId;
    private string Secret => Server.Bootstrap.AppSecret;

    [Fact]
    public async Task Tenant_token_has_the_documented_shape_and_is_handed_out_again_while_fresh()
    {
        var first = await Server.PostJsonAsync("/open-apis/auth/v3/tenant_access_token/internal", new { app_id = AppId, app_secret = Secret });
        Assert.Equal(0, first["code"]!.GetValue<int>());
        Assert.Equal("ok", first["msg"]!.GetValue<string>());
        Assert.StartsWith("t-", first["tenant_access_token"]!.GetValue<string>());
        Assert.Equal(7200, first["expire"]!.GetValue<int>());
        Assert.Null(first["data"]);

        Server.Clock.Advance(TimeSpan.FromMinutes(60));
        var again = await Server.PostJsonAsync("/open-apis/auth/v3/tenant_access_token/internal/", new { app_id = AppId, app_secret = Secret });
        Assert.Equal(first["tenant_access_token"]!.GetValue<string>(), again["tenant_access_token"]!.GetValue<string>());
        Assert.Equal(3600, again["expire"]!.GetValue<int>());

        Server.Clock.Advance(TimeSpan.FromMinutes(40));
        var renewed = await Server.PostJsonAsync("/open-apis/auth/v3/tenant_access_token/internal", new { app_id = AppId, app_secret = Secret });
        Assert.NotEqual(first["tenant_access_token"]!.GetValue<string>(), renewed["tenant_access_token"]!.GetValue<string>());
        Assert.Equal(7200, renewed["expire"]!.GetValue<int>());
    }

    [Fact]
    public async Task App_token_comes_with_a_tenant_token()
    {
        var answer = await Server.PostJsonAsync("/open-apis/auth/v3/app_access_token/internal", new { app_id = AppId, app_secret = Secret });
        Assert.Equal(0, answer["code"]!.GetValue<int>());
        Assert.StartsWith("a-", answer["app_access_token"]!.GetValue<string>());
        Assert.StartsWith("t-", answer["tenant_access_token"]!.GetValue<string>());
        Assert.Equal(7200, answer["expire"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"app_id": "cli_unknown", "app_secret": "x"}""", 10003)]
    [InlineData("""{"app_secret": "x"}""", 10003)]
    [InlineData("""{"app_id": 5, "app_secret": "x"}""", 10003)]
    [InlineData("""not json""", 10003)]
    [InlineData("""{"app_id": "APP", "app_secret": "wrong"}""", 10014)]
    [InlineData("""{"app_id": "APP", "app_secret": ""}""", 10003)]
    public async Task Token_endpoint_refusals_travel_with_http_200(string body, int code)
    {
        foreach (var path in new[] { "/open-apis/auth/v3/tenant_access_token/internal", "/open-apis/auth/v3/app_access_token/internal" })
        {
            var response = await Server.SendAsync(HttpMethod.Post, path, body.Replace("APP", AppId));
            await JsonAssert.ErrorAsync(response, 200, code);
        }
    }

    [Fact]
    public async Task Code_exchange_accepts_the_tenant_token_the_node_sdk_sends_and_the_documented_app_token()
    {
        var tenantToken = await Server.TenantTokenAsync();
        var viaTenant = await Server.PostJsonAsync("/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId) }, tenantToken);
        Assert.Equal(0, viaTenant["code"]!.GetValue<int>());
        var data = viaTenant["data"]!;
        Assert.StartsWith("u-", data["access_token"]!.GetValue<string>());
        Assert.StartsWith("ur-", data["refresh_token"]!.GetValue<string>());
        Assert.Equal("Bearer", data["token_type"]!.GetValue<string>());
        Assert.Equal(7200, data["expires_in"]!.GetValue<int>());
        Assert.True(data["refresh_expires_in"]!.GetValue<int>() > 7200);

        var appToken = (await Server.PostJsonAsync("/open-apis/auth/v3/app_access_token/internal", new { app_id = AppId, app_secret = Secret }))
            ["app_access_token"]!.GetValue<string>();
        var viaApp = await Server.PostJsonAsync("/open-apis/authen/v1/oidc/access_token",
            new { grant_type = "authorization_code", code = await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId) }, appToken);
        Assert.Equal(0, viaApp["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_code_buys_tokens_once_and_not_after_it_expires()
    {
        var tenantToken = await Server.TenantTokenAsync();
        var code = await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId);
        Assert.Equal(0, (await Server.PostJsonAsync("/open-apis/authen/v1/oidc/access_token", new { grant_type = "authorization_code", code }, tenantToken))["code"]!.GetValue<int>());
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            $$"""{"grant_type": "authorization_code", "code": "{{code}}"}""", tenantToken), 200, 20003);

        var late = await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId);
        Server.Clock.Advance(TimeSpan.FromMinutes(6));
        tenantToken = await Server.TenantTokenAsync();
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            $$"""{"grant_type": "authorization_code", "code": "{{late}}"}""", tenantToken), 200, 20004);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            """{"grant_type": "password", "code": "x"}""", tenantToken), 200, 20036);
    }

    [Fact]
    public async Task A_code_of_another_app_is_refused()
    {
        var other = await Server.PostJsonAsync($"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/apps", new { name = "other" }, Server.Bootstrap.OperatorKey);
        var otherToken = await Server.TenantTokenAsync(other["data"]!["app_id"]!.GetValue<string>(), other["data"]!["app_secret"]!.GetValue<string>());
        var code = await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            $$"""{"grant_type": "authorization_code", "code": "{{code}}"}""", otherToken), 200, 20024);
    }

    [Fact]
    public async Task Refresh_rotates_the_pair_and_spends_the_old_refresh_token()
    {
        var (access, refresh) = await Server.UserTokensAsync();
        var tenantToken = await Server.TenantTokenAsync();
        var refreshed = await Server.PostJsonAsync("/open-apis/authen/v1/oidc/refresh_access_token",
            new { grant_type = "refresh_token", refresh_token = refresh }, tenantToken);
        Assert.Equal(0, refreshed["code"]!.GetValue<int>());
        var newAccess = refreshed["data"]!["access_token"]!.GetValue<string>();
        Assert.NotEqual(access, newAccess);
        // No such binding: 195103 (not a token error) proves the new user token is accepted.
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            "/open-apis/calendar/v4/exchange_bindings/ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=",
            null, newAccess), 404, 195103);

        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/refresh_access_token",
            $$"""{"grant_type": "refresh_token", "refresh_token": "{{refresh}}"}""", tenantToken), 200, 20038);
    }

    [Fact]
    public async Task A_code_minted_with_a_redirect_uri_is_redeemed_only_with_the_same_one()
    {
        const string redirect = "https://app.example/callback";
        async Task<string> Mint() => (await Server.PostJsonAsync("/admin/v1/authorization_codes",
            new { app_id = AppId, open_id = Server.Bootstrap.AdminOpenId, redirect_uri = redirect }, Server.Bootstrap.OperatorKey))
            ["data"]!["code"]!.GetValue<string>();
        async Task<JsonNode> OAuth(object body) => JsonNode.Parse(await (await Server.Http.PostAsJsonAsync("/open-apis/authen/v2/oauth/token", body))
            .Content.ReadAsStringAsync())!;

        var code = await Mint();
        foreach (var wrong in new[] { null, "https://evil.example/callback", redirect + "/" })
        {
            var refused = await OAuth(new { grant_type = "authorization_code", client_id = AppId, client_secret = Secret, code, redirect_uri = wrong });
            Assert.Equal(20071, refused["code"]!.GetValue<int>());
            Assert.Equal("invalid_grant", refused["error"]!.GetValue<string>());
        }
        // The refusals did not spend the code: the rightful client still redeems it.
        Assert.Equal(0, (await OAuth(new { grant_type = "authorization_code", client_id = AppId, client_secret = Secret, code, redirect_uri = redirect }))
            ["code"]!.GetValue<int>());

        // The OIDC endpoint refuses in its own shape (HTTP 200, 20001), then redeems with the same redirect_uri.
        var oidcCode = await Mint();
        var tenant = await Server.TenantTokenAsync();
        var oidcRefused = await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            $$"""{"grant_type":"authorization_code","code":"{{oidcCode}}"}""", tenant), 200, 20001);
        Assert.Contains("redirect_uri", oidcRefused["msg"]!.GetValue<string>());
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
            $$"""{"grant_type":"authorization_code","code":"{{oidcCode}}","redirect_uri":"{{redirect}}"}""", tenant));
    }

    [Fact]
    public async Task OAuth_v2_issues_tokens_at_top_level_and_refuses_in_rfc6749_shape()
    {
        var code = await Server.MintCodeAsync(Server.Bootstrap.AdminOpenId);
        var answer = await Server.PostJsonAsync("/open-apis/authen/v2/oauth/token",
            new { grant_type = "authorization_code", client_id = AppId, client_secret = Secret, code });
        Assert.Equal(0, answer["code"]!.GetValue<int>());
        Assert.StartsWith("u-", answer["access_token"]!.GetValue<string>());
        Assert.Equal("Bearer", answer["token_type"]!.GetValue<string>());
        Assert.True(answer["refresh_token_expires_in"]!.GetValue<int>() > 0);

        var refreshed = await Server.PostJsonAsync("/open-apis/authen/v2/oauth/token",
            new { grant_type = "refresh_token", client_id = AppId, client_secret = Secret, refresh_token = answer["refresh_token"]!.GetValue<string>() });
        Assert.Equal(0, refreshed["code"]!.GetValue<int>());

        async Task Refused(object body, int code, string error)
        {
            var response = await Server.Http.PostAsJsonAsync("/open-apis/authen/v2/oauth/token", body);
            Assert.Equal(400, (int)response.StatusCode);
            var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal(code, json["code"]!.GetValue<int>());
            Assert.Equal(error, json["error"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(json["error_description"]!.GetValue<string>()));
        }

        await Refused(new { grant_type = "authorization_code", client_id = AppId, client_secret = Secret, code }, 20003, "invalid_grant");
        await Refused(new { grant_type = "authorization_code", client_id = AppId, client_secret = "bad", code = "x" }, 20002, "invalid_client");
        await Refused(new { grant_type = "authorization_code", client_id = AppId }, 20001, "invalid_request");
        await Refused(new { grant_type = "client_credentials", client_id = AppId, client_secret = Secret }, 20036, "unsupported_grant_type");
    }
}
