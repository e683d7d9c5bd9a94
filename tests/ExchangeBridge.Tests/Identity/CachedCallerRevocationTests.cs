using ExchangeBridge.Server.Identity;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Identity;

/// <summary>
/// Callers cached as in production (TokenCacheSeconds on): AuthorizationStep admits a cached caller from the token
/// cache's <see cref="Caller"/> without the framework's handler, so every change of standing an operator commits must
/// reach the very next request of a caller admitted that way a moment before, on the GET answered from memory too.
/// </summary>
public sealed class CachedCallerRevocationTests() : ServerTests(new TestServer(settings: new Dictionary<string, string?> { ["ExchangeBridge:TokenCacheSeconds"] = "600" }))
{
    private const string Path = "/open-apis/calendar/v4/exchange_bindings";
    private const string DocumentedId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";
    private const string CreateBody =
        """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""";

    private string _admin = null!;

    private string OperatorKey => Server.Bootstrap.OperatorKey;
    private string Tenant => Server.Bootstrap.TenantKey;

    public override async Task InitializeAsync()
    {
        _admin = await Server.AdminUserTokenAsync();
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, Path, CreateBody, _admin));
    }

    private Task<HttpResponseMessage> GetBinding(string token) => Server.SendAsync(HttpMethod.Get, $"{Path}/{DocumentedId}", null, token);

    /// <summary>Read twice, so the second read is the cached caller's (and, on SQLite, the cached answer's).</summary>
    private async Task AdmittedFromTheCacheAsync(string token)
    {
        for (var i = 0; i < 2; i++) await JsonAssert.SuccessAsync(await GetBinding(token));
        Assert.True(Server.Services.GetRequiredService<TokenService>().TryGetCachedCaller(token, out _));
    }

    private async Task RefusedAsync(string token, int status, int code)
    {
        // Twice: once as the first request after the change, once with whatever that request cached.
        for (var i = 0; i < 2; i++) await JsonAssert.ErrorAsync(await GetBinding(token), status, code);
    }

    private Task<HttpResponseMessage> UpdateAdminAsync(string body) =>
        Server.SendAsync(HttpMethod.Patch, $"/admin/v1/tenants/{Tenant}/users/admin", body, OperatorKey);

    [Fact]
    public async Task A_cached_administrator_demoted_or_resigned_is_refused_at_once_and_promoted_again_is_admitted()
    {
        await AdmittedFromTheCacheAsync(_admin);
        await JsonAssert.SuccessAsync(await UpdateAdminAsync("""{"is_super_admin":false}"""));
        await RefusedAsync(_admin, 403, 195101);

        await JsonAssert.SuccessAsync(await UpdateAdminAsync("""{"is_super_admin":true}"""));
        await AdmittedFromTheCacheAsync(_admin);

        await JsonAssert.SuccessAsync(await UpdateAdminAsync("""{"resigned":true}"""));
        await RefusedAsync(_admin, 404, 195100);
    }

    [Fact]
    public async Task A_cached_caller_of_a_deleted_app_is_refused_at_once()
    {
        var app = (await Server.PostJsonAsync($"/admin/v1/tenants/{Tenant}/apps", new { name = "second" }, OperatorKey))["data"]!;
        var appId = app["app_id"]!.GetValue<string>();
        var adminUser = (await TestServer.ReadAsync(await Server.SendAsync(HttpMethod.Get, $"/admin/v1/tenants/{Tenant}/users/admin", null, OperatorKey)))["data"]!.AsObject();
        var (secondAdmin, _) = await Server.UserTokensAsync(TestServer.OpenIdOf(adminUser, appId), appId, app["app_secret"]!.GetValue<string>());
        await AdmittedFromTheCacheAsync(secondAdmin);

        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Delete, $"/admin/v1/tenants/{Tenant}/apps/{appId}", null, OperatorKey));
        await RefusedAsync(secondAdmin, 400, 99991668);
        // The other app's cached administrator is untouched by it.
        await AdmittedFromTheCacheAsync(_admin);
    }

    [Fact]
    public async Task A_cached_administrator_is_refused_a_binding_deleted_a_moment_before()
    {
        await AdmittedFromTheCacheAsync(_admin);
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Delete, $"{Path}/{DocumentedId}", null, _admin));
        await RefusedAsync(_admin, 404, 195103);
    }

    [Fact]
    public async Task A_cached_tenant_token_is_refused_at_once_when_its_app_loses_the_bot_capability()
    {
        var appPath = $"/admin/v1/tenants/{Tenant}/apps/{Server.Bootstrap.AppId}";
        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Patch, appPath, """{"bot_enabled":true}""", OperatorKey));
        var tenant = await Server.TenantTokenAsync();
        for (var i = 0; i < 2; i++)
            await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, tenant));
        Assert.True(Server.Services.GetRequiredService<TokenService>().TryGetCachedCaller(tenant, out _));

        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Patch, appPath, """{"bot_enabled":false}""", OperatorKey));
        for (var i = 0; i < 2; i++)
            await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, tenant), 404, 190007);
    }
}
