using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ExchangeBridge.Console.Tests;

/// <summary>
/// The operators' console as an operator uses it, in a real browser against the real server process: sign in, register
/// an admin account, watch a binding made through the Open API reach done without reloading, see why a failing mailbox
/// is err and bring it back with a retry, unbind, manage tenants. Every page visited is checked with axe and
/// photographed (<see cref="ConsolePages"/>).
/// </summary>
public sealed partial class ConsoleFlowTests(ChromiumFixture chromium, ITestOutputHelper output) : IClassFixture<ChromiumFixture>, IAsyncLifetime
{
    private ConsoleWorld _world = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _world = await ConsoleWorld.StartAsync();
        _page = await chromium.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        await _page.Context.CloseAsync();
        await _world.DisposeAsync();
    }

    [Fact]
    public async Task Signing_in_with_the_operator_key_opens_the_overview_and_a_wrong_key_is_refused()
    {
        await _page.GotoAsync(_world.Url("/console"));
        await Expect(_page).ToHaveURLAsync(SignInAddress());
        await ConsolePages.AssertAccessibleAndShootAsync(_page, "sign-in", output);

        await _page.GetByLabel("Operator key").FillAsync("ok-not-the-key");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Alert)).ToContainTextAsync("not an operator key");

        await _world.SignInAsync(_page);
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Overview", Level = 1 })).ToBeVisibleAsync();
        await Expect(_page.GetByRole(AriaRole.Img, new() { Name = "Events imported per minute over the last hour" })).ToBeVisibleAsync();
        await ConsolePages.AssertAccessibleAndShootAsync(_page, "overview", output);

        await _page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(_page).ToHaveURLAsync(SignInAddress());
        await _page.GotoAsync(_world.Url("/console/bindings"));
        await Expect(_page).ToHaveURLAsync(SignInAddress());
    }

    [Fact]
    public async Task An_admin_account_registered_in_the_console_verifies_and_its_password_is_never_shown()
    {
        await _world.SignInAsync(_page);
        await _page.GetByRole(AriaRole.Link, new() { Name = "Exchange admin accounts" }).ClickAsync();
        await _page.GetByLabel("Admin account (email)").FillAsync("second-admin@outlook.com");
        await _page.GetByLabel("Endpoint").FillAsync(_world.Url("/EWS/Exchange.asmx"));
        await _page.GetByLabel("Username").FillAsync(ServerProcess.DemoAdminAccount);
        await _page.GetByLabel("Password (EWS) or client secret (Graph)").FillAsync(ConsoleWorld.DemoAdminPassword);
        await _page.GetByLabel("Allow the EWS password over plain http://").CheckAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Register and verify" }).ClickAsync();

        await Expect(_page.GetByRole(AriaRole.Status)).ToContainTextAsync("second-admin@outlook.com is registered and verified");
        await Expect(_page.Locator("tr", new() { HasText = "second-admin@outlook.com" })).ToContainTextAsync("verified");
        Assert.DoesNotContain(ConsoleWorld.DemoAdminPassword, await _page.ContentAsync());
        await Expect(_page.GetByLabel("Password (EWS) or client secret (Graph)")).ToHaveValueAsync("");
        await ConsolePages.AssertAccessibleAndShootAsync(_page, "admin-accounts", output);
    }

    [Fact]
    public async Task A_binding_made_through_the_Open_API_goes_to_done_live_on_the_bindings_page()
    {
        await _world.MailboxFailsAsync("refuse"); // held at doing, retrying, until the mailbox answers again
        await _world.BindThroughOpenApiAsync();
        await _world.SignInAsync(_page);
        await _page.GetByRole(AriaRole.Link, new() { Name = "Bindings", Exact = true }).ClickAsync();
        var row = _page.Locator("tr", new() { HasText = ConsoleWorld.Mailbox });
        // Retrying after the fault: doing, shown late, with the fault's reason (which arrives live too).
        await Expect(row.Locator("[data-field=status_text]")).ToHaveTextAsync("doing (late)");
        await Expect(row.Locator("[data-field=why]")).ToContainTextAsync("Transient");
        await _page.EvaluateAsync("() => { window.notReloaded = true; }");

        await _world.MailboxFailsAsync("none");
        await Expect(row.Locator("[data-field=status_text]")).ToHaveTextAsync("done");
        await Expect(row.Locator("[data-field=why]")).ToHaveTextAsync("");
        Assert.True(await _page.EvaluateAsync<bool>("() => window.notReloaded === true"), "the page was reloaded");
        await ConsolePages.AssertAccessibleAndShootAsync(_page, "bindings", output);

        await _page.GetByRole(AriaRole.Link, new() { Name = "Overview" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Link, new() { Name = "1 done bindings of Bootstrap tenant" })).ToBeVisibleAsync();
        await ConsolePages.AssertAccessibleAndShootAsync(_page, "overview-after-an-import", output);
    }

    [Fact]
    public async Task A_mailbox_that_fails_shows_err_with_the_reason_and_a_retry_brings_it_back()
    {
        var id = await _world.BindThroughOpenApiAsync();
        await _world.SignInAsync(_page);
        await _page.GotoAsync(_world.BindingPage(id));
        var status = _page.Locator("[data-field=status_text]");
        await Expect(status).ToHaveTextAsync("done");

        await _world.AdminPasswordIsAsync("rotated-in-exchange"); // the password the server holds is refused from now on
        await Expect(status).ToHaveTextAsync("err");
        var why = _page.Locator("[data-field=why]");
        await Expect(why).ToContainTextAsync("Unauthorized");
        await Expect(why).ToContainTextAsync("Register the admin account again");
        await ConsolePages.AssertAccessibleAndShootAsync(_page, "binding", output);

        await _world.AdminPasswordIsAsync(ConsoleWorld.DemoAdminPassword);
        await _page.GetByRole(AriaRole.Button, new() { Name = "Retry now" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Status)).ToContainTextAsync("Retry asked");
        await Expect(status).ToHaveTextAsync("done");
        await Expect(why).ToHaveTextAsync("");
    }

    [Fact]
    public async Task Unbinding_asks_for_a_confirmation_then_removes_the_binding()
    {
        var id = await _world.BindThroughOpenApiAsync();
        await _world.SignInAsync(_page);
        await _page.GotoAsync(_world.BindingPage(id));
        await _page.GetByRole(AriaRole.Link, new() { Name = "Unbind…" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync($"Unbind {ConsoleWorld.Mailbox}?");
        await ConsolePages.AssertAccessibleAndShootAsync(_page, "unbind", output);

        await _page.GetByRole(AriaRole.Button, new() { Name = "Unbind" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Status)).ToContainTextAsync($"{ConsoleWorld.Mailbox} was unbound");
        await Expect(_page.Locator("tr", new() { HasText = ConsoleWorld.Mailbox })).ToHaveCountAsync(0);
        var (status, code) = await _world.Server.StatusAndCodeAsync(HttpMethod.Get,
            $"/admin/v1/tenants/{_world.Bootstrap.TenantKey}/exchange_bindings?exchange_binding_id={Uri.EscapeDataString(id)}",
            bearer: _world.Bootstrap.OperatorKey);
        Assert.Equal((404, 40400), (status, code));
    }

    [Fact]
    public async Task An_app_created_in_the_console_shows_its_secret_once_and_users_are_managed_there()
    {
        await _world.SignInAsync(_page);
        await _page.GetByRole(AriaRole.Link, new() { Name = "Tenants, apps and users" }).ClickAsync();
        await _page.GetByLabel("New app's name").FillAsync("Console app");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create app" }).ClickAsync();
        var secret = await _page.Locator("[data-shown-once]").TextContentAsync();
        Assert.Matches("^[A-Za-z0-9]{32}$", secret);

        await _page.GetByLabel("Name", new() { Exact = true }).FillAsync("Ada");
        await _page.GetByLabel("user_id (generated when empty)").FillAsync("ada");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Status)).ToContainTextAsync("User Ada (ada) added");
        Assert.DoesNotContain(secret!, await _page.ContentAsync());
        await _page.GetByRole(AriaRole.Button, new() { Name = "Grant super administrator to ada" }).ClickAsync();
        await Expect(_page.Locator("tr", new() { HasText = "Ada" })).ToContainTextAsync("super administrator");

        await _page.GetByLabel("user_id", new() { Exact = true }).FillAsync("ada");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Mint code" }).ClickAsync();
        await Expect(_page.Locator("[data-shown-once]")).ToBeVisibleAsync();
        await ConsolePages.AssertAccessibleAndShootAsync(_page, "tenants", output);
    }

    [GeneratedRegex("/console/sign-in")]
    private static partial Regex SignInAddress();
}
