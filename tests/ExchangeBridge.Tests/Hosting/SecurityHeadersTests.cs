using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Hosting;

/// <summary>nosniff and no-store on every answer: token, create, and a GET answered from the database or from the read cache.</summary>
public sealed class SecurityHeadersTests
{
    private const string Bindings = "/open-apis/calendar/v4/exchange_bindings";
    private const string DocumentedId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";

    private static void AssertHeaders(HttpResponseMessage response, string what)
    {
        Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var sniff) && sniff.Single() == "nosniff",
            $"{what}: no X-Content-Type-Options: nosniff");
        Assert.True(response.Headers.CacheControl?.NoStore == true, $"{what}: no Cache-Control: no-store");
    }

    [Fact]
    public async Task Every_answer_says_nosniff_and_no_store_whether_cached_or_not()
    {
        // Callers cached, as in production, so the second GET of a binding is served from the read cache.
        await using var server = new TestServer(settings: new Dictionary<string, string?> { ["ExchangeBridge:TokenCacheSeconds"] = "600" });
        var tokenAnswer = await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal",
            $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"{{server.Bootstrap.AppSecret}}"}""");
        AssertHeaders(tokenAnswer, "tenant_access_token");
        var user = await server.AdminUserTokenAsync();
        AssertHeaders(await server.SendAsync(HttpMethod.Post, Bindings,
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""",
            user), "create");

        var uncached = await server.SendAsync(HttpMethod.Get, $"{Bindings}/{DocumentedId}", bearer: user);
        AssertHeaders(uncached, "uncached GET");
        // Behind the server's back: an answer still saying "doing" was served from the cache.
        await server.Services.GetRequiredService<IDatabase>().WriteAsync(Touched.Nothing, (c, tx, _) =>
            c.ExecuteAsync("UPDATE exchange_bindings SET status = 'err' WHERE exchange_binding_id = @id", new { id = DocumentedId }, tx));
        var cached = await server.SendAsync(HttpMethod.Get, $"{Bindings}/{DocumentedId}", bearer: user);
        if (!TestDatabases.OnPostgres) Assert.Contains("\"doing\"", await cached.Content.ReadAsStringAsync());
        AssertHeaders(cached, "cached GET");

        AssertHeaders(await server.SendAsync(HttpMethod.Post, "/admin/v1/authorization_codes",
            $$"""{"app_id":"{{server.Bootstrap.AppId}}","open_id":"{{server.Bootstrap.AdminOpenId}}"}""", server.Bootstrap.OperatorKey), "code");
        AssertHeaders(await server.SendAsync(HttpMethod.Get, $"{Bindings}/{DocumentedId}", bearer: "u-unknown"), "refusal");
        AssertHeaders(await server.SendAsync(HttpMethod.Get, "/healthz"), "/healthz");
        var notFound = await server.SendAsync(HttpMethod.Get, "/nowhere");
        Assert.Equal("text/plain", notFound.Content.Headers.ContentType?.MediaType);
        AssertHeaders(notFound, "plain-text 404");
    }
}
