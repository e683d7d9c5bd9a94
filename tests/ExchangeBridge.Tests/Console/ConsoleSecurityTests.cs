using System.Net;
using ExchangeBridge.Server.Console;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Console;

/// <summary>
/// The console's defences, through the real pipeline: the session cookie's flags, a policy that loads nothing from
/// elsewhere, antiforgery on every form, sign-in attempts limited per source address, sessions that end.
/// </summary>
public sealed class ConsoleSecurityTests() : ServerTests(new TestServer(settings: new Dictionary<string, string?>
{
    ["ExchangeBridge:Console:SignInAttempts"] = Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ["ExchangeBridge:Console:SessionMinutes"] = SessionMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture),
}))
{
    private const int Attempts = 3;
    private const int SessionMinutes = 30;

    [Theory]
    [InlineData("http")]
    [InlineData("https")]
    public async Task The_session_cookie_is_HttpOnly_SameSite_Strict_for_the_console_only_and_Secure_on_https(string scheme)
    {
        using var browser = new ConsoleSession(Server);
        var signedIn = await browser.SignInAsync(Server.Bootstrap.OperatorKey, $"{scheme}://localhost/console/sign-in");

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/console", signedIn.Headers.Location?.OriginalString);
        var session = Assert.Single(browser.LastSetCookies, c => c.StartsWith("exbridge_console=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("httponly", session);
        Assert.Contains("samesite=strict", session);
        Assert.Contains("path=/console", session);
        Assert.Equal(scheme == "https", session.Contains("secure", StringComparison.Ordinal));
        Assert.DoesNotContain("expires=", session); // gone with the browser; the server ends it anyway (below)
    }

    [Fact]
    public async Task Every_console_answer_allows_nothing_from_elsewhere_and_other_paths_keep_the_plain_404()
    {
        using var browser = new ConsoleSession(Server);
        await browser.SignInAsync(Server.Bootstrap.OperatorKey);
        foreach (var path in new[] { "/console/sign-in", "/console", "/console/bindings", "/console/assets/console.css", "/console/no-such-page" })
        {
            var answer = await browser.GetAsync(path);
            var policy = string.Join(";", answer.Headers.GetValues("Content-Security-Policy"));
            Assert.Equal(ConsoleRegistration.ContentSecurityPolicy, policy);
            Assert.Contains("default-src 'self'", policy);
            Assert.DoesNotContain("unsafe-inline", policy);
            Assert.DoesNotContain("http", policy);
            Assert.Equal("nosniff", answer.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.True(answer.Headers.CacheControl?.NoStore, path);
        }
        var page = await browser.PageAsync("/console");
        Assert.DoesNotContain("<script>", page); // the one script is a file of ours, never inline
        Assert.DoesNotContain("style=", page);

        var elsewhere = await Server.Http.GetAsync("/no-such-path");
        Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        Assert.Equal("404 page not found", await elsewhere.Content.ReadAsStringAsync());
        Assert.False(elsewhere.Headers.Contains("Content-Security-Policy"));
    }

    [Fact]
    public async Task A_page_without_a_session_sends_the_browser_to_sign_in_and_the_live_feed_refuses()
    {
        using var browser = new ConsoleSession(Server);
        foreach (var path in new[] { "/console", "/console/bindings", "/console/tenants" })
        {
            var answer = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
            Assert.StartsWith("http://localhost/console/sign-in?return=", answer.Headers.Location?.ToString());
        }
        var live = await browser.GetAsync($"/console/live?tenant={Server.Bootstrap.TenantKey}&keys=1");
        Assert.NotEqual(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task A_form_posted_without_its_antiforgery_token_is_refused_and_changes_nothing()
    {
        using var browser = new ConsoleSession(Server);
        await browser.SignInAsync(Server.Bootstrap.OperatorKey);
        var page = await browser.PageAsync("/console/tenants");
        var create = new Dictionary<string, string> { ["name"] = "Forged tenant" };

        var forged = await browser.PostAsync("/console/tenants?handler=CreateTenant", create, withTokenFrom: null);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        using (var other = new ConsoleSession(Server))
        {
            // A token from another browser's session is no better.
            await other.SignInAsync(Server.Bootstrap.OperatorKey);
            var othersPage = await other.PageAsync("/console/tenants");
            Assert.Equal(HttpStatusCode.BadRequest, (await browser.PostAsync("/console/tenants?handler=CreateTenant", create, othersPage)).StatusCode);
        }
        Assert.DoesNotContain("Forged tenant", await browser.PageAsync("/console/tenants"));

        var posted = await browser.PostAsync("/console/tenants?handler=CreateTenant", create, page);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Contains("Forged tenant", await browser.PageAsync("/console/tenants"));
    }

    [Fact]
    public async Task Sign_in_attempts_are_limited_per_source_address()
    {
        using var guesser = new ConsoleSession(Server, IPAddress.Parse("192.0.2.10"));
        for (var i = 0; i < Attempts; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.SignInAsync("ok-wrong-guess-" + i)).StatusCode);
        var refused = await guesser.SignInAsync(Server.Bootstrap.OperatorKey); // even the right key, once past the limit
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter is not null);
        Assert.DoesNotContain(guesser.LastSetCookies, c => c.StartsWith("exbridge_console=", StringComparison.Ordinal));

        using var colleague = new ConsoleSession(Server, IPAddress.Parse("192.0.2.11"));
        Assert.Equal(HttpStatusCode.Redirect, (await colleague.SignInAsync(Server.Bootstrap.OperatorKey)).StatusCode);
    }

    [Fact]
    public async Task A_session_ends_when_its_time_is_up_and_sign_out_ends_it_at_once()
    {
        using var browser = new ConsoleSession(Server);
        await browser.SignInAsync(Server.Bootstrap.OperatorKey);
        await browser.PageAsync("/console");
        Server.Clock.Advance(TimeSpan.FromMinutes(SessionMinutes - 1));
        await browser.PageAsync("/console");
        Server.Clock.Advance(TimeSpan.FromMinutes(2));
        var expired = await browser.GetAsync("/console");
        Assert.Equal(HttpStatusCode.Redirect, expired.StatusCode);
        Assert.Contains("/console/sign-in", expired.Headers.Location?.ToString());

        await browser.SignInAsync(Server.Bootstrap.OperatorKey);
        var page = await browser.PageAsync("/console");
        var signedOut = await browser.PostAsync("/console/sign-out", new Dictionary<string, string>(), page);
        Assert.Equal("/console/sign-in", signedOut.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/console")).StatusCode);
    }
}
