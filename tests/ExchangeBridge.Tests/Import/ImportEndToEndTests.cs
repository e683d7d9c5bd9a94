using System.Text.Json.Nodes;
using Dapper;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Import;

/// <summary>Import end to end through EWS (Exchange Server).</summary>
public sealed class EwsImportEndToEndTests() : ImportEndToEndTests(SimulatedConnector.Ews);

/// <summary>
/// Bind through the Open API, let the worker import from the simulator through one connector, read the result back
/// through the calendar API and compare it with the simulator's mailbox. Every test runs for each connector
/// (<see cref="EwsImportEndToEndTests"/>, <see cref="GraphImportEndToEndTests"/>).
/// </summary>
public abstract class ImportEndToEndTests(SimulatedConnector connector) : ImportWorldTests(connector)
{
    [Fact]
    public async Task A_binding_reaches_done_and_its_events_match_the_mailbox_field_by_field()
    {
        var store = World.Simulator.Store;
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

        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));

        var calendars = await World.CalendarsAsync();
        Assert.Equal(["Calendar", "Team"], calendars.Select(c => c["summary"]!.GetValue<string>()).Order().ToArray());
        Assert.All(calendars, c =>
        {
            Assert.Equal("exchange", c["type"]!.GetValue<string>());
            Assert.True(c["is_third_party"]!.GetValue<bool>());
        });
        var main = await World.EventsAsync(calendars.Single(c => c["summary"]!.GetValue<string>() == "Calendar")["calendar_id"]!.GetValue<string>());
        var teamEvents = await World.EventsAsync(calendars.Single(c => c["summary"]!.GetValue<string>() == "Team")["calendar_id"]!.GetValue<string>());
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

        // One event is readable on its own too, with its attendees when asked for them.
        var one = await World.EventAsync(calendars.Single(c => c["summary"]!.GetValue<string>() == "Calendar")["calendar_id"]!.GetValue<string>(), masterId,
            "need_attendee=true");
        Assert.False(one["has_more_attendee"]!.GetValue<bool>());
        one.Remove("has_more_attendee");
        Assert.Equal(master.ToJsonString(), one.ToJsonString());
    }

    [Fact]
    public async Task Incremental_sync_carries_new_changed_and_deleted_items_and_series_changes()
    {
        var store = World.Simulator.Store;
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
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
        var calendarId = (await World.CalendarsAsync()).Single()["calendar_id"]!.GetValue<string>();
        Assert.Equal(4, (await World.EventsAsync(calendarId)).Count);

        store.Put(calendar, new SimCalendarItem { ItemId = "change", Subject = "After", Start = Monday.AddDays(3), End = Monday.AddDays(3).AddHours(2) });
        store.Delete(calendar, "drop");
        store.Put(calendar, new SimCalendarItem { ItemId = "new", Subject = "Brand new", Start = Monday.AddDays(4), End = Monday.AddDays(4).AddHours(1) });
        store.Put(calendar, series with
        {
            Exceptions = [new SimException("series-x", Monday.AddDays(2), Monday.AddDays(2).AddHours(3), Monday.AddDays(2).AddHours(3.5), "Daily (late)")],
            DeletedOccurrences = [Monday.AddDays(3)],
        });
        await World.SyncAgainAsync();

        var events = await World.EventsAsync(calendarId);
        var subjects = events.Select(e => e["summary"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["After", "Brand new", "Daily", "Daily", "Daily (late)", "Keep"], subjects);
        var after = events.Single(e => e["summary"]!.GetValue<string>() == "After");
        Assert.Equal(Monday.AddDays(3).ToUnixTimeSeconds().ToString(), after["start_time"]!["timestamp"]!.GetValue<string>());
        Assert.Single(events, e => e["status"]!.GetValue<string>() == "cancelled");
        Assert.Equal("done", await World.WaitForStatusAsync("done"));

        // The exception removed again: its instance goes with it.
        store.Put(calendar, series with { Exceptions = [], DeletedOccurrences = [] });
        await World.SyncAgainAsync();
        Assert.Equal(["After", "Brand new", "Daily", "Keep"], (await World.EventsAsync(calendarId)).Select(e => e["summary"]!.GetValue<string>()).Order().ToList());
        Assert.NotNull(keep);
    }

    [Fact]
    public async Task The_stored_sync_state_makes_the_next_sync_ask_only_for_what_changed()
    {
        var store = World.Simulator.Store;
        var calendar = store.DefaultFolder(Mailbox);
        for (var i = 0; i < 20; i++)
            store.Put(calendar, new SimCalendarItem { ItemId = $"e{i}", Subject = $"E{i}", Start = Monday.AddDays(i), End = Monday.AddDays(i).AddHours(1) });
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
        Assert.True((await World.DiagnosticsAsync())["calendars"]![0]!["has_sync_state"]!.GetValue<bool>());

        store.Put(calendar, new SimCalendarItem { ItemId = "e3", Subject = "E3 moved", Start = Monday.AddDays(30), End = Monday.AddDays(30).AddHours(1) });
        var before = store.Requests;
        await World.SyncAgainAsync();

        // The folders listed, one page of changes from the stored state and one fetch; from no state it would page
        // through all 20 items.
        Assert.Equal(Connector.FolderListingRequests + 2, store.Requests - before);
        var events = await World.EventsAsync((await World.CalendarsAsync()).Single()["calendar_id"]!.GetValue<string>());
        Assert.Equal(20, events.Count);
        Assert.Contains(events, e => e["summary"]!.GetValue<string>() == "E3 moved");
    }

    [Fact]
    public async Task Throttling_keeps_the_status_and_resumes_after_the_servers_back_off()
    {
        World.Simulator.Store.Put(World.Simulator.Store.DefaultFolder(Mailbox),
            new SimCalendarItem { ItemId = "a", Subject = "A", Start = Monday, End = Monday.AddHours(1) });
        World.Simulator.Store.RefuseAsBusy(1, TimeSpan.FromSeconds(90));
        await World.BindAsync();

        var diagnostics = await World.WaitForDiagnosticsAsync(d => d["jobs"]![0]!["last_error"] is not null);
        Assert.Contains(Connector.ThrottledMarker, diagnostics["jobs"]![0]!["last_error"]!.GetValue<string>());
        Assert.Equal("doing", diagnostics["status"]!.GetValue<string>());
        var runAt = diagnostics["jobs"]![0]!["run_at"]!.GetValue<long>();
        Assert.InRange(runAt - World.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds(), 80_000, 90_000); // the server's back-off honoured

        World.Server.Clock.Advance(TimeSpan.FromSeconds(91));
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
    }

    [Theory]
    [InlineData("credentials", "Unauthorized")]
    [InlineData("impersonation", "ImpersonationDenied")]
    [InlineData("mailbox", "MailboxNotFound")]
    public async Task Refusals_end_in_err_with_a_readable_reason(string fault, string reason)
    {
        switch (fault)
        {
            case "credentials": Connector.ChangeCredentials(World.Simulator.Store); break;
            case "impersonation": Connector.Grant(World.Simulator.Store, only: ["someone-else@contoso.com"]); break;
            case "mailbox":
                var ghost = ExchangeBindingId.Encode(ImportWorld.Admin, "ghost@contoso.com");
                await JsonAssert.SuccessAsync(await World.CreateBindingAsync("ghost@contoso.com"));
                var data = await World.WaitForDiagnosticsAsync(d => d["status"]!.GetValue<string>() == "err", ghost);
                Assert.StartsWith(reason, data["error_reason"]!.GetValue<string>());
                return;
        }
        await World.BindAsync();
        Assert.Equal("err", await World.WaitForStatusAsync("err", "done"));
        Assert.StartsWith(reason, (await World.DiagnosticsAsync())["error_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refused_credentials_fail_the_registration_and_a_create_through_it_answers_195105()
    {
        var refused = await World.RegisterAdminAsync(Connector.AccountBody(World.Simulator, secret: "not-the-secret"));
        Assert.Equal("failed", refused["verification_state"]!.GetValue<string>());
        Assert.StartsWith("Unauthorized", refused["verification_error"]!.GetValue<string>());
        await JsonAssert.ErrorAsync(await World.CreateBindingAsync(), 403, 195105);

        var registered = await World.RegisterAdminAsync(Connector.AccountBody(World.Simulator));
        Assert.Equal("verified", registered["verification_state"]!.GetValue<string>());
        await World.BindAsync();
    }

    [Fact]
    public async Task Unbinding_removes_the_imported_calendars_and_events_and_stops_the_sync()
    {
        var store = World.Simulator.Store;
        store.Put(store.DefaultFolder(Mailbox), new SimCalendarItem { ItemId = "a", Subject = "A", Start = Monday, End = Monday.AddHours(1) });
        store.Put(store.AddFolder(Mailbox, "Team"), new SimCalendarItem { ItemId = "b", Subject = "B", Start = Monday, End = Monday.AddHours(1) });
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
        Assert.Equal(2, (await World.CalendarsAsync()).Count);

        await JsonAssert.SuccessAsync(await World.UnbindAsync());
        // Nothing of the binding is left to read or to run: no calendar, no event, and no queued job (the unbind job done,
        // the sync cancelled) that would reach the mailbox again.
        await using var c = await World.Server.Services.GetRequiredService<IDatabase>().OpenAsync();
        async Task<long> LeftAsync() =>
            await c.ExecuteScalarAsync<long>("SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM sync_jobs WHERE state = 'queued')");
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (((await World.CalendarsAsync()).Count > 0 || await LeftAsync() > 0) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Empty(await World.CalendarsAsync());
        Assert.Equal(0, await LeftAsync());
    }
}
