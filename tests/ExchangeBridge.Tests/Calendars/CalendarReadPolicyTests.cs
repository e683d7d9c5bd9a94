using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Import;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Calendars;

/// <summary>
/// Who reads an imported calendar, per token kind, as on the platform: a user token is the user, who reads their own;
/// a tenant token is the app itself (with the bot capability), which owns none of the employees' calendars and has none
/// shared with it; an app token is not accepted. docs/security.md says the same.
/// </summary>
public sealed class CalendarReadPolicyTests() : ImportWorldTests(SimulatedConnector.Ews)
{
    private string _calendarId = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Simulator.Store.Put(Simulator.Store.DefaultFolder(ImportWorld.Mailbox), new SimCalendarItem
        {
            ItemId = "one-to-one", Subject = "Salary review", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1),
            TimeZoneId = "UTC", Body = "Confidential.",
        });
        await World.BindAsync();
        await World.WaitForStatusAsync("done");
        foreach (var calendar in await World.CalendarsAsync())
            if ((await World.EventsAsync(calendar["calendar_id"]!.GetValue<string>())).Any(e => e["summary"]!.GetValue<string>() == "Salary review"))
                _calendarId = calendar["calendar_id"]!.GetValue<string>();
        Assert.NotEmpty(_calendarId); // the employee reads their own calendar and its event
    }

    private TestServer Server => World.Server;
    private string Calendar => $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(_calendarId)}";

    private static string Troubleshooter(JsonObject refusal) => refusal["error"]!["troubleshooter"]!.GetValue<string>();

    [Fact]
    public async Task A_tenant_token_needs_the_apps_bot_and_then_reads_none_of_the_employees_calendars()
    {
        var tenant = await Server.TenantTokenAsync();
        var noBot = await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, tenant), 404, 190007);
        Assert.Equal("app bot_id not found", noBot["msg"]!.GetValue<string>());
        Assert.Contains("bot_enabled", Troubleshooter(noBot));

        await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Patch,
            $"/admin/v1/tenants/{Server.Bootstrap.TenantKey}/apps/{Server.Bootstrap.AppId}", """{"bot_enabled":true}""", Server.Bootstrap.OperatorKey));
        var listed = await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, tenant));
        Assert.Empty(listed["data"]!["calendar_list"]!.AsArray());
        foreach (var path in new[] { Calendar, $"{Calendar}/events" })
            await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, path, null, tenant), 403, 191002);
    }

    [Fact]
    public async Task A_user_token_reads_only_its_users_own_calendars()
    {
        // The super administrator who made the binding is another user: the employee's calendar is not theirs.
        var listed = await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, World.AdminToken));
        Assert.Empty(listed["data"]!["calendar_list"]!.AsArray());
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{Calendar}/events", null, World.AdminToken), 403, 191002);
    }

    [Fact]
    public async Task An_app_token_is_refused_with_a_hint_naming_the_tokens_the_endpoint_takes()
    {
        var appToken = (await Server.PostJsonAsync("/open-apis/auth/v3/app_access_token/internal",
            new { app_id = Server.Bootstrap.AppId, app_secret = Server.Bootstrap.AppSecret }))["app_access_token"]!.GetValue<string>();
        var refused = await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, appToken), 400, 99991664);
        Assert.Equal("Invalid access token for authorization. Please make a request with token attached.", refused["msg"]!.GetValue<string>());
        Assert.StartsWith("排查建议查看(Troubleshooting suggestions): ", Troubleshooter(refused));
        Assert.Contains("user_access_token", Troubleshooter(refused));
        Assert.Contains("tenant_access_token", Troubleshooter(refused));
    }
}
