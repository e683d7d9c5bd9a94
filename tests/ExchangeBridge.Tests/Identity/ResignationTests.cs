using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Identity;

public sealed class ResignationTests
{
    [Fact]
    public async Task Resigning_revokes_the_users_tokens_at_once_and_reinstating_brings_none_back()
    {
        // Callers cached for long, as in production: the revocation must not wait for the cache.
        await using var server = new TestServer(demo: false, settings: new Dictionary<string, string?> { ["ExchangeBridge:TokenCacheSeconds"] = "600" });
        var employee = await server.CreateUserAsync("bob");
        var openId = TestServer.OpenIdOf(employee, server.Bootstrap.AppId);
        var (access, refresh) = await server.UserTokensAsync(openId);
        var pendingCode = await server.MintCodeAsync(openId);
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, access));

        async Task Standing(bool resigned) => await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Patch,
            $"/admin/v1/tenants/{server.Bootstrap.TenantKey}/users/bob", $$"""{"resigned":{{(resigned ? "true" : "false")}}}""", server.Bootstrap.OperatorKey));
        async Task AssertRevoked(int bindingCode, int refreshCode)
        {
            var refused = await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, access), 400, 99991668);
            // While resigned the policy says why; once reinstated the token is simply unknown.
            Assert.Equal(bindingCode == 195100, refused["error"]!["troubleshooter"] is not null);
            await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/exchange_bindings/x", null, access),
                bindingCode == 195100 ? 404 : 400, bindingCode);
            var tenant = await server.TenantTokenAsync();
            await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/refresh_access_token",
                $$"""{"grant_type":"refresh_token","refresh_token":"{{refresh}}"}""", tenant), 200, refreshCode);
            await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/authen/v1/oidc/access_token",
                $$"""{"grant_type":"authorization_code","code":"{{pendingCode}}"}""", tenant), 200, 20003);
        }

        // While resigned, the revoked tokens are still recognised and answered with the platform's "resigned" codes.
        await Standing(resigned: true);
        await AssertRevoked(bindingCode: 195100, refreshCode: 20021);
        await using (var c = await server.Services.GetRequiredService<IDatabase>().OpenAsync())
        {
            Assert.Equal(0, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM access_tokens WHERE user_id = 'bob' AND revoked_at IS NULL"));
            Assert.Equal(0, await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM authorization_codes WHERE user_id = 'bob'"));
        }

        // Reinstated: the old tokens stay dead, as unknown as forged ones.
        await Standing(resigned: false);
        await AssertRevoked(bindingCode: 99991668, refreshCode: 20038);
        // Back at work, the user signs in again like anyone else.
        var (fresh, _) = await server.UserTokensAsync(openId);
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, fresh));
    }
}
