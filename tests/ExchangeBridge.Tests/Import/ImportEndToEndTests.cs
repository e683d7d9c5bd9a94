using System.Text.Json.Nodes;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// Bind through the Open API, let the worker import from the EWS simulator, read the result back through the
/// calendar API and compare it with the simulator's mailbox.
/// </summary>
public sealed class ImportEndToEndTests : IAsyncLifetime
{
    private const string Admin = "svc@contoso.com";
    private const string Password = "Svc-Pa55";
    private const string Mailbox = "alisa@contoso.com";
    private static readonly DateTimeOffset Monday = new(2026, 11, 30, 1, 0, 0, TimeSpan.Zero);

    private SimulatorHost _simulator = null!;
    private TestServer _server = null!;
    private string _adminToken = "", _employeeToken = "", _employeeOpenId = "";

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorHost.StartAsync();
        _simulator.Store.AddAdmin(Admin, Password);
        _simulator.Store.AddMailbox(Mailbox);
        _server = new TestServer(demo: false, settings: new Dictionary<string, string?>
        {
            ["ExchangeBridge:Import:Workers"] = "1",
            ["ExchangeBridge:Import:PollMilliseconds"] = "20",
            ["ExchangeBridge:Import:PageSize"] = "7", // several pages even for a small mailbox
        });
        _server.Clock.Advance(Monday.AddDays(-3) - _server.Clock.GetUtcNow()); // "now" is the Friday before
        _adminToken = await _server.AdminUserTokenAsync();
        var employee = await _server.CreateUserAsync("alisa");
        _employeeOpenId = TestServer.OpenIdOf(employee, _server.Bootstrap.AppId);
        (_employeeToken, _) = await _server.UserTokensAsync(_employeeOpenId);
        var registered = await TestServer.ReadAsync(await _server.SendAsync(HttpMethod.Put,
            $"/admin/v1/tenants/{_server.Bootstrap.TenantKey}/exchange_admin_accounts/{Admin}",
            $$"""{"connector":"ews","endpoint":"{{_simulator.Endpoint}}","password":"{{Password}}"}""", _server.Bootstrap.OperatorKey));
        Assert.Equal("verified", registered["data"]!["verification_state"]!.GetValue<string>());
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    private string BindingId => ExchangeBindingId.Encode(Admin, Mailbox);

    private async Task BindAsync()
    {
        var created = await JsonAssert.SuccessAsync(await _server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            $$"""{"admin_account":"{{Admin}}","exchange_account":"{{Mailbox}}","user_id":"{{_employeeOpenId}}"}""", _adminToken));
        Assert.Equal("doing", created["data"]!["status"]!.GetValue<string>());
    }

    /// <summary>Polls the binding until its status is one of <paramref name="wanted"/> (readiness, bounded to a minute).</summary>
    private async Task<string> WaitForStatusAsync(params string[] wanted)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        string status = "";
        JsonObject got = [];
        while (DateTime.UtcNow < deadline)
        {
            got = await TestServer.ReadAsync(await _server.SendAsync(HttpMethod.Get, $"/open-apis/calendar/v4/exchange_bindings/{BindingId}", null, _adminToken));
            status = got["data"]?["status"]?.GetValue<string>() ?? "";
            if (wanted.Contains(status)) return status;
            await Task.Delay(50); // well under the 50 requests per second the method allows
        }
        // Say why: the last answer and what the operator API knows of the job.
        throw new TimeoutException($"status stayed '{status}': {got.ToJsonString()}; diagnostics: {(await DiagnosticsAsync()).ToJsonString()}");
    }

    private async Task<JsonObject> DiagnosticsAsync() =>
        (await TestServer.ReadAsync(await _server.SendAsync(HttpMethod.Get,
            $"/admin/v1/tenants/{_server.Bootstrap.TenantKey}/exchange_bindings?exchange_binding_id={Uri.EscapeDataString(BindingId)}",
            null, _server.Bootstrap.OperatorKey)))["data"]!.AsObject();

    private async Task<List<JsonObject>> EventsAsync(string calendarId)
    {
        var events = new List<JsonObject>();
        var token = "";
        do
        {
            var page = (await JsonAssert.SuccessAsync(await _server.SendAsync(HttpMethod.Get,
                $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events?page_size=3&page_token={Uri.EscapeDataString(token)}",
                null, _employeeToken)))["data"]!;
            events.AddRange(page["items"]!.AsArray().Select(i => i!.AsObject()));
            token = page["page_token"]!.GetValue<string>();
        } while (token.Length > 0);
        return events;
    }

    private async Task<List<JsonObject>> CalendarsAsync() =>
        (await JsonAssert.SuccessAsync(await _server.SendAsync(HttpMethod.Get, "/open-apis/calendar/v4/calendars", null, _employeeToken)))
            ["data"]!["calendar_list"]!.AsArray().Select(c => c!.AsObject()).ToList();

    private async Task SyncAgainAsync()
    {
        // The next incremental sync is due SyncIntervalSeconds later: move the clock there.
        _server.Clock.Advance(TimeSpan.FromSeconds(301));
        var before = (await DiagnosticsAsync())["jobs"]![0]!["run_at"]!.GetValue<long>();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline && (await DiagnosticsAsync())["jobs"]![0]!["run_at"]!.GetValue<long>() == before) await Task.Delay(20);
    }

    [Fact]
    public async Task A_binding_reaches_done_and_its_events_match_the_mailbox_field_by_field()
    {
        var store = _simulator.Store;
        var calendar = store.DefaultFolder(Mailbox);
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "single", Subject = "Design review", Start = Monday.AddDays(1), End = Monday.AddDays(1).AddMinutes(90),
            TimeZoneId = "Pacific Standard Time", Location = "Room 7", Body = "Bring the drafts.", FreeBusy = "Tentative", ReminderMinutes = 10,
            Organizer = new SimPerson("Bob", "bob@contoso.com"),
            Attendees = [new SimAttendee("Alisa", Mailbox, "Accept"), new SimAttendee("Carol", "carol@contoso.com", "Decline", Optional: true)],
        });
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "series", Subject = "Stand-up", Start = Monday, End = Monday.AddMinutes(15), TimeZoneId = "China Standard Time",
            Recurrence = new SimRecurrence("<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>",
                "<t:EndDateRecurrence><t:StartDate>2026-11-30</t:StartDate><t:EndDate>2027-06-30</t:EndDate></t:EndDateRecurrence>"),
            Exceptions = [new SimException("series-x1", Monday.AddDays(28), Monday.AddDays(29), Monday.AddDays(29).AddMinutes(15), "Stand-up (Tuesday)")],
            DeletedOccurrences = [Monday.AddDays(56)],
        });
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "allday", Subject = "Holiday", Start = new DateTimeOffset(2026, 12, 24, 16, 0, 0, TimeSpan.Zero),
            End = new DateTimeOffset(2026, 12, 25, 16, 0, 0, TimeSpan.Zero), TimeZoneId = "China Standard Time", IsAllDay = true, FreeBusy = "Free",
            ReminderMinutes = null,
        });
        store.Put(calendar, new SimCalendarItem
        {
            ItemId = "old", Subject = "Last year's retro", Start = Monday.AddDays(-400), End = Monday.AddDays(-400).AddHours(1),
        });
        var team = store.AddFolder(Mailbox, "Team");
        for (var i = 0; i < 10; i++)
            store.Put(team, new SimCalendarItem { ItemId = $"team-{i}", Subject = $"Team {i}", Start = Monday.AddDays(i), End = Monday.AddDays(i).AddHours(1) });

        await BindAsync();
        Assert.Equal("done", await WaitForStatusAsync("done", "err"));

        var calendars = await CalendarsAsync();
        Assert.Equal(["Calendar", "Team"], calendars.Select(c => c["summary"]!.GetValue<string>()).Order().ToArray());
        Assert.All(calendars, c =>
        {
            Assert.Equal("exchange", c["type"]!.GetValue<string>());
            Assert.True(c["is_third_party"]!.GetValue<bool>());
        });
        var main = await EventsAsync(calendars.Single(c => c["summary"]!.GetValue<string>() == "Calendar")["calendar_id"]!.GetValue<string>());
        var teamEvents = await EventsAsync(calendars.Single(c => c["summary"]!.GetValue<string>() == "Team")["calendar_id"]!.GetValue<string>());
        Assert.Equal(10, teamEvents.Count);
        Assert.Equal(10, teamEvents.Select(e => e["event_id"]!.GetValue<string>()).Distinct().Count());

        var single = main.Single(e => e["summary"]!.GetValue<string>() == "Design review");
        Assert.Equal("Bring the drafts.", single["description"]!.GetValue<string>());
        Assert.Equal("Room 7", single["location"]!["name"]!.GetValue<string>());
        Assert.Equal(Monday.AddDays(1).ToUnixTimeSeconds().ToString(), single["start_time"]!["timestamp"]!.GetValue<string>());
        Assert.Equal(Monday.AddDays(1).AddMinutes(90).ToUnixTimeSeconds().ToString(), single["end_time"]!["timestamp"]!.GetValue<string>());
        Assert.Equal("America/Los_Angeles", single["start_time"]!["timezone"]!.GetValue<string>());
        Assert.Equal("busy", single["free_busy_status"]!.GetValue<string>());
        Assert.Equal(10, single["reminders"]![0]!["minutes"]!.GetValue<int>());
        Assert.Equal("Bob", single["event_organizer"]!["display_name"]!.GetValue<string>());
        var attendees = single["attendees"]!.AsArray().ToDictionary(a => a!["third_party_email"]!.GetValue<string>(), a => a!.AsObject());
        Assert.Equal("accept", attendees[Mailbox]["rsvp_status"]!.GetValue<string>());
        Assert.Equal("decline", attendees["carol@contoso.com"]["rsvp_status"]!.GetValue<string>());
        Assert.True(attendees["carol@contoso.com"]["is_optional"]!.GetValue<bool>());

        var master = main.Single(e => e["summary"]!.GetValue<string>() == "Stand-up" && e["is_exception"]!.GetValue<bool>() == false);
        Assert.Equal("FREQ=MONTHLY;INTERVAL=1;BYDAY=-1MO;UNTIL=20270630T010000Z", master["recurrence"]!.GetValue<string>());
        Assert.Equal("Asia/Shanghai", master["start_time"]!["timezone"]!.GetValue<string>());
        var masterId = master["event_id"]!.GetValue<string>();
        var moved = main.Single(e => e["summary"]!.GetValue<string>() == "Stand-up (Tuesday)");
        Assert.True(moved["is_exception"]!.GetValue<bool>());
        Assert.Equal(masterId, moved["recurring_event_id"]!.GetValue<string>());
        Assert.EndsWith("_" + Monday.AddDays(28).ToUnixTimeSeconds(), moved["event_id"]!.GetValue<string>());
        var cancelled = main.Single(e => e["status"]!.GetValue<string>() == "cancelled");
        Assert.Equal(masterId, cancelled["recurring_event_id"]!.GetValue<string>());
        Assert.Equal(Monday.AddDays(56).ToUnixTimeSeconds().ToString(), cancelled["start_time"]!["timestamp"]!.GetValue<string>());

        var allDay = main.Single(e => e["summary"]!.GetValue<string>() == "Holiday");
        Assert.Equal("2026-12-25", allDay["start_time"]!["date"]!.GetValue<string>());
        Assert.Equal("free", allDay["free_busy_status"]!.GetValue<string>());
        Assert.Empty(allDay["reminders"]!.AsArray());
        Assert.Contains(main, e => e["summary"]!.GetValue<string>() == "Last year's retro"); // outside the window: imported with the history
        Assert.Equal(6, main.Count); // single, master, moved, cancelled, all-day, old

        // One event is readable on its own too.
        var one = await JsonAssert.SuccessAsync(await _server.SendAsync(HttpMethod.Get,
            $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendars[0]["calendar_id"]!.GetValue<string>())}/events/{masterId}", null, _employeeToken));
        Assert.Equal(masterId, one["data"]!["event"]!["event_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Incremental_sync_carries_new_changed_and_deleted_items_and_series_changes()
    {
        var store = _simulator.Store;
        var calendar = store.DefaultFolder(Mailbox);
        var keep = store.Put(calendar, new SimCalendarItem { ItemId = "keep", Subject = "Keep", Start = Monday, End = Monday.AddHours(1) });
        store.Put(calendar, new SimCalendarItem { ItemId = "change", Subject = "Before", Start = Monday.AddDays(1), End = Monday.AddDays(1).AddHours(1) });
        store.Put(calendar, new SimCalendarItem { ItemId = "drop", Subject = "Drop me", Start = Monday.AddDays(2), End = Monday.AddDays(2).AddHours(1) });
        var series = store.Put(calendar, new SimCalendarItem
        {
            ItemId = "series", Subject = "Daily", Start = Monday, End = Monday.AddMinutes(10),
            Recurrence = new SimRecurrence("<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>",
                "<t:NumberedRecurrence><t:StartDate>2026-11-30</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence>"),
        });
        await BindAsync();
        Assert.Equal("done", await WaitForStatusAsync("done", "err"));
        var calendarId = (await CalendarsAsync()).Single()["calendar_id"]!.GetValue<string>();
        Assert.Equal(4, (await EventsAsync(calendarId)).Count);

        store.Put(calendar, new SimCalendarItem { ItemId = "change", Subject = "After", Start = Monday.AddDays(3), End = Monday.AddDays(3).AddHours(2) });
        store.Delete(calendar, "drop");
        store.Put(calendar, new SimCalendarItem { ItemId = "new", Subject = "Brand new", Start = Monday.AddDays(4), End = Monday.AddDays(4).AddHours(1) });
        store.Put(calendar, series with
        {
            Exceptions = [new SimException("series-x", Monday.AddDays(2), Monday.AddDays(2).AddHours(3), Monday.AddDays(2).AddHours(3.5), "Daily (late)")],
            DeletedOccurrences = [Monday.AddDays(3)],
        });
        await SyncAgainAsync();

        var events = await EventsAsync(calendarId);
        var subjects = events.Select(e => e["summary"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["After", "Brand new", "Daily", "Daily", "Daily (late)", "Keep"], subjects);
        var after = events.Single(e => e["summary"]!.GetValue<string>() == "After");
        Assert.Equal(Monday.AddDays(3).ToUnixTimeSeconds().ToString(), after["start_time"]!["timestamp"]!.GetValue<string>());
        Assert.Single(events, e => e["status"]!.GetValue<string>() == "cancelled");
        Assert.Equal("done", await WaitForStatusAsync("done"));

        // The exception removed again: its instance goes with it.
        store.Put(calendar, series with { Exceptions = [], DeletedOccurrences = [] });
        await SyncAgainAsync();
        Assert.Equal(["After", "Brand new", "Daily", "Keep"], (await EventsAsync(calendarId)).Select(e => e["summary"]!.GetValue<string>()).Order().ToList());
        Assert.NotNull(keep);
    }

    [Fact]
    public async Task Throttling_keeps_the_status_and_resumes_after_the_servers_back_off()
    {
        _simulator.Store.Put(_simulator.Store.DefaultFolder(Mailbox),
            new SimCalendarItem { ItemId = "a", Subject = "A", Start = Monday, End = Monday.AddHours(1) });
        _simulator.Store.RefuseAsBusy(1, TimeSpan.FromSeconds(90));
        await BindAsync();

        var deadline = DateTime.UtcNow.AddMinutes(1);
        JsonObject diagnostics;
        do diagnostics = await DiagnosticsAsync();
        while (diagnostics["jobs"]![0]!["last_error"] is null && DateTime.UtcNow < deadline);
        Assert.Contains("ErrorServerBusy", diagnostics["jobs"]![0]!["last_error"]!.GetValue<string>());
        Assert.Equal("doing", diagnostics["status"]!.GetValue<string>());
        var runAt = diagnostics["jobs"]![0]!["run_at"]!.GetValue<long>();
        Assert.InRange(runAt - _server.Clock.GetUtcNow().ToUnixTimeMilliseconds(), 80_000, 90_000); // BackOffMilliseconds honoured

        _server.Clock.Advance(TimeSpan.FromSeconds(91));
        Assert.Equal("done", await WaitForStatusAsync("done", "err"));
    }

    [Theory]
    [InlineData("credentials", "Unauthorized")]
    [InlineData("impersonation", "ImpersonationDenied")]
    [InlineData("mailbox", "MailboxNotFound")]
    public async Task Refusals_end_in_err_with_a_readable_reason(string fault, string reason)
    {
        switch (fault)
        {
            case "credentials": _simulator.Store.AddAdmin(Admin, "changed-since-registration"); break;
            case "impersonation": _simulator.Store.AddAdmin(Admin, Password, mayImpersonate: ["someone-else@contoso.com"]); break;
            case "mailbox":
                var other = ExchangeBindingId.Encode(Admin, "ghost@contoso.com");
                await JsonAssert.SuccessAsync(await _server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
                    $$"""{"admin_account":"{{Admin}}","exchange_account":"ghost@contoso.com","user_id":"{{_employeeOpenId}}"}""", _adminToken));
                var deadline = DateTime.UtcNow.AddMinutes(1);
                JsonObject data;
                do data = (await TestServer.ReadAsync(await _server.SendAsync(HttpMethod.Get,
                        $"/admin/v1/tenants/{_server.Bootstrap.TenantKey}/exchange_bindings?exchange_binding_id={Uri.EscapeDataString(other)}",
                        null, _server.Bootstrap.OperatorKey)))["data"]!.AsObject();
                while (data["status"]!.GetValue<string>() != "err" && DateTime.UtcNow < deadline);
                Assert.StartsWith(reason, data["error_reason"]!.GetValue<string>());
                return;
        }
        await BindAsync();
        Assert.Equal("err", await WaitForStatusAsync("err", "done"));
        Assert.StartsWith(reason, (await DiagnosticsAsync())["error_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unbinding_removes_the_imported_calendars()
    {
        _simulator.Store.Put(_simulator.Store.DefaultFolder(Mailbox), new SimCalendarItem { ItemId = "a", Subject = "A", Start = Monday, End = Monday.AddHours(1) });
        await BindAsync();
        Assert.Equal("done", await WaitForStatusAsync("done", "err"));
        Assert.Single(await CalendarsAsync());

        await JsonAssert.SuccessAsync(await _server.SendAsync(HttpMethod.Delete, $"/open-apis/calendar/v4/exchange_bindings/{BindingId}", null, _adminToken));
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await CalendarsAsync()).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Empty(await CalendarsAsync());
    }
}
