using System.Net.Http.Json;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.RateLimits;

public sealed class RateLimiterTests
{
    private const string BindingPath =
        "/open-apis/calendar/v4/exchange_bindings/ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";

    private static TestServer Server(params (string Key, string Value)[] limits) =>
        new(settings: limits.ToDictionary(l => $"ExchangeBridge:RateLimits:{l.Key}", l => (string?)l.Value));

    [Fact]
    public async Task A_method_over_its_limit_is_190004_with_the_gateways_headers()
    {
        await using var server = Server(("MethodPerMinute", "5"));
        var token = await server.AdminUserTokenAsync();
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++) answers.Add(await server.SendAsync(HttpMethod.Get, BindingPath, null, token));

        Assert.Equal(5, answers.Count(a => (int)a.StatusCode == 404)); // admitted: the binding does not exist
        var refused = answers.Where(a => (int)a.StatusCode == 429).ToList();
        Assert.Equal(3, refused.Count);
        foreach (var answer in refused)
        {
            await JsonAssert.ErrorAsync(answer, 429, 190004);
            Assert.Equal("5", answer.Headers.GetValues("x-ogw-ratelimit-limit").Single());
            Assert.InRange(int.Parse(answer.Headers.GetValues("x-ogw-ratelimit-reset").Single()), 1, 60);
        }

        // Another method of the same app has its own count.
        await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Delete, BindingPath, null, token), 404, 195103);
    }

    [Fact]
    public async Task An_app_over_its_limit_across_methods_is_190005()
    {
        await using var server = Server(("AppPerSecond", "4"));
        var token = await server.AdminUserTokenAsync();
        var statuses = new List<int>();
        for (var i = 0; i < 3; i++) statuses.Add((int)(await server.SendAsync(HttpMethod.Get, BindingPath, null, token)).StatusCode);
        for (var i = 0; i < 3; i++) statuses.Add((int)(await server.SendAsync(HttpMethod.Delete, BindingPath, null, token)).StatusCode);
        Assert.Equal(4, statuses.Count(s => s == 404));
        var last = await server.SendAsync(HttpMethod.Get, BindingPath, null, token);
        await JsonAssert.ErrorAsync(last, 429, 190005);
    }

    [Fact]
    public async Task Wrong_secrets_lock_out_only_their_source_until_many_sources_together_reach_the_apps_ceiling()
    {
        await using var server = Server(("FailedTokenPerMinute", "3"), ("FailedTokenPerAppPerMinute", "7"));
        const string path = "/open-apis/auth/v3/tenant_access_token/internal";
        JsonContent Wrong() => JsonContent.Create(new { app_id = server.Bootstrap.AppId, app_secret = "guess" });
        JsonContent Right() => JsonContent.Create(new { app_id = server.Bootstrap.AppId, app_secret = server.Bootstrap.AppSecret });
        HttpClient From(string address) => server.ClientFrom(System.Net.IPAddress.Parse(address));

        using var attacker = From("203.0.113.7");
        for (var i = 0; i < 3; i++) await JsonAssert.ErrorAsync(await attacker.PostAsync(path, Wrong()), 200, 10014);
        await JsonAssert.ErrorAsync(await attacker.PostAsync(path, Right()), 429, 99991400);
        // The app's own server, elsewhere, is not locked out by the attacker's guesses.
        using var owner = From("198.51.100.20");
        await JsonAssert.SuccessAsync(await owner.PostAsync(path, Right()));
        // One IPv6 host owns its /64: a new address in it is the same source.
        using var v6 = From("2001:db8:1:2::1");
        for (var i = 0; i < 3; i++) await JsonAssert.ErrorAsync(await v6.PostAsync(path, Wrong()), 200, 10014);
        using var sameHost = From("2001:db8:1:2::ffff");
        await JsonAssert.ErrorAsync(await sameHost.PostAsync(path, Right()), 429, 99991400);

        // Six wrong secrets so far; the seventh, from a third source, reaches the app's ceiling: now everyone waits.
        using var third = From("192.0.2.9");
        await JsonAssert.ErrorAsync(await third.PostAsync(path, Wrong()), 200, 10014);
        await JsonAssert.ErrorAsync(await owner.PostAsync(path, Right()), 429, 99991400);
    }

    [Fact]
    public async Task Repeated_wrong_secrets_lock_the_app_out_of_the_token_endpoint_for_a_while()
    {
        await using var server = Server(("FailedTokenPerMinute", "3"));
        var wrong = $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"guess"}""";
        for (var i = 0; i < 3; i++)
            await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", wrong), 200, 10014);

        var right = $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"{{server.Bootstrap.AppSecret}}"}""";
        var refused = await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", right);
        await JsonAssert.ErrorAsync(refused, 429, 99991400);
        Assert.True(refused.Headers.Contains("x-ogw-ratelimit-reset"));
    }

    [Fact]
    public async Task Token_requests_naming_no_app_are_refused_before_any_counter()
    {
        // Counting them would keep state for every app_id anyone sends, and could throttle or lock out nothing real.
        await using var server = Server(("TokenPerSecond", "2"), ("FailedTokenPerMinute", "2"));
        for (var i = 0; i < 6; i++)
            await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal",
                """{"app_id":"cli_nobody","app_secret":"guess"}"""), 200, 10003);
    }

    [Fact]
    public async Task Token_requests_over_their_limit_are_99991400()
    {
        await using var server = Server(("TokenPerSecond", "2"));
        var body = $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"{{server.Bootstrap.AppSecret}}"}""";
        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++) answers.Add(await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", body));
        Assert.Equal(2, answers.Count(a => (int)a.StatusCode == 200));
        await JsonAssert.ErrorAsync(answers[^1], 429, 99991400);
    }
}
