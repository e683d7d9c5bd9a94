using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;

namespace ExchangeBridge.Console.Tests;

/// <summary>
/// A demo server (<c>--demo</c>: the seed page's admin account and employee, served by its built-in simulator) whose
/// import moves fast, with what a test does outside the browser: bind through the Open API as an app would, and make
/// the simulator's mailbox fail or its admin's password change through the demo's hooks.
/// </summary>
public sealed class ConsoleWorld : IAsyncDisposable
{
    public const string Mailbox = "email_account_example@outlook.com";
    public const string DemoOpenId = "ou_xxxxxxxxxxxxxxxxxx";
    public const string DemoAdminPassword = "demo-admin-password";

    private ConsoleWorld(ServerProcess server) => Server = server;

    public ServerProcess Server { get; }
    public Bootstrap Bootstrap => Server.Bootstrap;
    public string Url(string path) => new Uri(Server.BaseAddress, path).ToString();

    public static async Task<ConsoleWorld> StartAsync() => new(await ServerProcess.StartAsync(new ServerLaunch
    {
        Environment = new Dictionary<string, string>
        {
            // A failed attempt is tried again within a second, and a done binding syncs every second: a test sees a
            // fault and a recovery in seconds. Late means a minute without a sync, so a busy machine shows no "late".
            ["ExchangeBridge__Import__RetryBaseMilliseconds"] = "100",
            ["ExchangeBridge__Import__MaxRetrySeconds"] = "1",
            ["ExchangeBridge__Import__SyncIntervalSeconds"] = "1",
            ["ExchangeBridge__Import__PollMilliseconds"] = "100",
            ["ExchangeBridge__Console__LateAfterSyncIntervals"] = "60",
        },
    }));

    /// <summary>Binds the demo employee's mailbox through the Open API, as the seed page's curl does; its exchange_binding_id.</summary>
    public async Task<string> BindThroughOpenApiAsync()
    {
        var code = (await PostAsync("/admin/v1/authorization_codes", new { app_id = Bootstrap.AppId, open_id = Bootstrap.AdminOpenId },
            Bootstrap.OperatorKey))["data"]!["code"]!.GetValue<string>();
        var tenant = (await PostAsync("/open-apis/auth/v3/tenant_access_token/internal",
            new { app_id = Bootstrap.AppId, app_secret = Bootstrap.AppSecret }, null))["tenant_access_token"]!.GetValue<string>();
        var user = (await PostAsync("/open-apis/authen/v1/oidc/access_token", new { grant_type = "authorization_code", code }, tenant))
            ["data"]!["access_token"]!.GetValue<string>();
        var binding = await PostAsync("/open-apis/calendar/v4/exchange_bindings?user_id_type=open_id",
            new { admin_account = ServerProcess.DemoAdminAccount, exchange_account = Mailbox, user_id = DemoOpenId }, user);
        return binding["data"]!["exchange_binding_id"]!.GetValue<string>();
    }

    /// <summary>The simulator answers the mailbox's requests with <paramref name="fault"/> (refuse, …) until told "none".</summary>
    public Task MailboxFailsAsync(string fault) =>
        PostAsync($"/admin/v1/demo/simulator/mailboxes/{Mailbox}/fault", new { fault }, Bootstrap.OperatorKey);

    /// <summary>The simulator's admin account gets <paramref name="password"/>; the one the server holds is refused until it matches again.</summary>
    public Task AdminPasswordIsAsync(string password) =>
        PostAsync($"/admin/v1/demo/simulator/admins/{ServerProcess.DemoAdminAccount}/password", new { password }, Bootstrap.OperatorKey);

    /// <summary>The binding's page in the console.</summary>
    public string BindingPage(string exchangeBindingId) =>
        Url($"/console/binding?tenant={Uri.EscapeDataString(Bootstrap.TenantKey)}&id={Uri.EscapeDataString(exchangeBindingId)}");

    /// <summary>Signs the page in with the operator key, as an operator types it.</summary>
    public async Task SignInAsync(IPage page)
    {
        await page.GotoAsync(Url("/console/sign-in"));
        await page.GetByLabel("Operator key").FillAsync(Bootstrap.OperatorKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Overview" })).ToBeVisibleAsync();
    }

    private async Task<JsonObject> PostAsync(string path, object body, string? bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await Server.Http.SendAsync(request);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.True(answer["code"]?.GetValue<int>() == 0, $"POST {path}: {answer.ToJsonString()}");
        return answer;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
