using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// One mailbox, imported by one server through EWS and by another through Graph: our calendar API answers the same,
/// to the byte, after the import and after an incremental sync. Each server is fresh, so the binding (and with it every
/// calendar and event id) gets the same internal key on both.
/// </summary>
public sealed class SameMailboxThroughEitherConnectorTests
{
    private static readonly DateTimeOffset Monday = ImportWorld.Monday;

    [Fact]
    public async Task A_mailbox_gives_the_same_calendars_and_events_through_ews_and_through_graph()
    {
        await using var simulator = await SimulatorHost.StartAsync();
        var store = simulator.Store;
        var main = store.DefaultFolder(ImportWorld.Mailbox);
        store.Generate(main, 300, Monday); // singles with attendees, weekly series with a moved and a cancelled occurrence, all-day
        store.Put(main, Series("monthly", "<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>",
            "<t:EndDateRecurrence><t:StartDate>2026-11-30</t:StartDate><t:EndDate>2027-06-30</t:EndDate></t:EndDateRecurrence>", "Tokyo Standard Time"));
        store.Put(main, Series("yearly", "<t:AbsoluteYearlyRecurrence><t:DayOfMonth>30</t:DayOfMonth><t:Month>November</t:Month></t:AbsoluteYearlyRecurrence>",
            "<t:NoEndRecurrence><t:StartDate>2026-11-30</t:StartDate></t:NoEndRecurrence>", "W. Europe Standard Time"));
        store.Generate(store.AddFolder(ImportWorld.Mailbox, "Team"), 60, Monday, seed: 2);

        await using var ews = await ImportWorld.StartAsync(simulator, SimulatedConnector.Ews);
        await using var graph = await ImportWorld.StartAsync(simulator, SimulatedConnector.Graph);
        await ews.BindAsync();
        await graph.BindAsync();
        Assert.Equal("done", await ews.WaitForStatusAsync("done", "err"));
        Assert.Equal("done", await graph.WaitForStatusAsync("done", "err"));
        await AssertSameAsync(ews, graph, expectedEvents: store.CountImportableEvents(main));

        // An increment reaches both the same way: a change, a deletion, an addition, a series gaining an exception.
        store.Put(main, Series("monthly", "<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>",
            "<t:EndDateRecurrence><t:StartDate>2026-11-30</t:StartDate><t:EndDate>2027-06-30</t:EndDate></t:EndDateRecurrence>", "Tokyo Standard Time") with
        {
            Exceptions = [new SimException("monthly-x", Monday, Monday.AddDays(1), Monday.AddDays(1).AddHours(1), "Monthly (moved)")],
            DeletedOccurrences = [new DateTimeOffset(2026, 12, 31, 1, 0, 0, TimeSpan.Zero)],
        });
        store.Put(main, new SimCalendarItem { ItemId = "gen-1-0000001", Subject = "Renamed", Start = Monday.AddDays(2), End = Monday.AddDays(2).AddHours(1) });
        store.Delete(main, "gen-1-0000002");
        store.Put(main, new SimCalendarItem { ItemId = "added", Subject = "Added", Start = Monday.AddDays(3), End = Monday.AddDays(3).AddHours(1), IsAllDay = true });
        await ews.SyncAgainAsync();
        await graph.SyncAgainAsync();
        await AssertSameAsync(ews, graph, expectedEvents: store.CountImportableEvents(main));
    }

    private static SimCalendarItem Series(string id, string pattern, string range, string zone) => new()
    {
        ItemId = id, Subject = id, Start = Monday, End = Monday.AddHours(1), TimeZoneId = zone, Body = $"{id} body", Location = "Room 1",
        Organizer = new SimPerson("Bob", "bob@contoso.com"), Attendees = [new SimAttendee(null, "carol@contoso.com", "Tentative", Optional: true)],
        Recurrence = new SimRecurrence(pattern, range), ReminderMinutes = 30, FreeBusy = "OOF",
    };

    private static async Task AssertSameAsync(ImportWorld ews, ImportWorld graph, int expectedEvents)
    {
        var calendars = await ews.CalendarsAsync();
        Assert.Equal(Json(calendars), Json(await graph.CalendarsAsync()));
        Assert.Equal(2, calendars.Count);
        foreach (var calendarId in calendars.Select(c => c["calendar_id"]!.GetValue<string>()))
        {
            var throughEws = await ews.EventsAsync(calendarId, pageSize: 1000);
            var throughGraph = await graph.EventsAsync(calendarId, pageSize: 1000);
            Assert.Equal(throughEws.Count, throughGraph.Count);
            // Event by event, so a difference names the event and the field rather than two pages of JSON.
            var byId = throughGraph.ToDictionary(e => e["event_id"]!.GetValue<string>(), e => e.ToJsonString());
            foreach (var e in throughEws) Assert.Equal(e.ToJsonString(), byId.GetValueOrDefault(e["event_id"]!.GetValue<string>()));
        }
        var primary = calendars.Single(c => c["summary"]!.GetValue<string>() == "Calendar")["calendar_id"]!.GetValue<string>();
        Assert.Equal(expectedEvents, (await ews.EventsAsync(primary, pageSize: 1000)).Count);
    }

    private static string Json(IEnumerable<JsonObject> items) => new JsonArray([.. items.Select(i => i.DeepClone())]).ToJsonString();
}
