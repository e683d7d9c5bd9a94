using System.Net;
using System.Text.RegularExpressions;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Console;

/// <summary>
/// Secrets are written, never read back: an admin account's password, an app's secret (shown on its creation's answer
/// only), an authorization code (likewise), the operator key typed at sign-in. Every page is searched for each.
/// </summary>
public sealed partial class ConsoleSecretsTests
{
    private static readonly string[] Pages =
        ["/console", "/console/bindings", "/console/admin-accounts", "/console/tenants", "/console/sign-in"];

    [Fact]
    public async Task No_secret_is_ever_rendered_after_the_one_answer_that_shows_it()
    {
        await using var server = new TestServer();
        using var browser = new ConsoleSession(server);
        var refusedKey = "ok-" + Guid.NewGuid().ToString("N");
        var refusal = await (await browser.SignInAsync(refusedKey)).Content.ReadAsStringAsync();
        Assert.DoesNotContain(refusedKey, refusal);
        await browser.SignInAsync(server.Bootstrap.OperatorKey);

        var password = "pw-" + Guid.NewGuid().ToString("N");
        var accounts = await browser.PageAsync("/console/admin-accounts");
        var registered = await browser.PostAsync($"/console/admin-accounts?handler=Register&tenant={server.Bootstrap.TenantKey}", new Dictionary<string, string>
        {
            ["Form.Email"] = "ops@contoso.com",
            ["Form.Connector"] = "ews",
            // Nothing listens there: the account is stored, its verification fails, and the page says why.
            ["Form.Endpoint"] = "http://127.0.0.1:9/EWS/Exchange.asmx",
            ["Form.Secret"] = password,
            ["Form.AllowCleartextPassword"] = "true",
        }, accounts);
        var registeredPage = await registered.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        Assert.Contains("ops@contoso.com is registered but failed", registeredPage);
        Assert.DoesNotContain(password, registeredPage);

        var tenants = await browser.PageAsync("/console/tenants");
        var created = await (await browser.PostAsync($"/console/tenants?handler=CreateApp&tenant={server.Bootstrap.TenantKey}",
            new Dictionary<string, string> { ["name"] = "Console-made app" }, tenants)).Content.ReadAsStringAsync();
        var appSecret = ShownOnce().Match(created).Groups[1].Value;
        Assert.Equal(32, appSecret.Length);

        tenants = await browser.PageAsync("/console/tenants");
        var minted = await (await browser.PostAsync($"/console/tenants?handler=MintCode&tenant={server.Bootstrap.TenantKey}",
            new Dictionary<string, string> { ["appId"] = server.Bootstrap.AppId, ["userId"] = server.Bootstrap.AdminUserId }, tenants))
            .Content.ReadAsStringAsync();
        var code = ShownOnce().Match(minted).Groups[1].Value;
        Assert.NotEmpty(code);

        string[] secrets = [password, appSecret, code, server.Bootstrap.AppSecret, server.Bootstrap.OperatorKey];
        foreach (var path in Pages.Append($"/console/admin-accounts?tenant={server.Bootstrap.TenantKey}&edit=ops@contoso.com"))
        {
            var page = await browser.GetAsync(path);
            var body = await page.Content.ReadAsStringAsync();
            foreach (var secret in secrets) Assert.False(body.Contains(secret, StringComparison.Ordinal), $"{path} shows a secret");
        }
    }

    [GeneratedRegex("<span class=\"secret\" data-shown-once>([^<]+)</span>")]
    private static partial Regex ShownOnce();
}
