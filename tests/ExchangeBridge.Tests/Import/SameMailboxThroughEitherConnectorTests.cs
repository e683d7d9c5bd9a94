using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// One mailbox, imported by one server through EWS and by another through Graph: our calendar API answers the same
/// after the import and after an incremental sync, field for field. Only the ids may differ, and only as the protocols'
/// ids do: Graph writes an EWS id's '/' and '+' as '-' and '_', and our calendar and event ids derive from them. So ids
/// are compared by what they name (a calendar by its summary, an event by its series' summary and start and its
/// original start), which also checks that every instance points at the right series.
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
        store.Put(main, Series("day-31", "<t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>31</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>",
            "<t:NumberedRecurrence><t:StartDate>2026-11-30</t:StartDate><t:NumberOfOccurrences>6</t:NumberOfOccurrences></t:NumberedRecurrence>", "India Standard Time") with
        {
            // What each protocol names its own way: sensitivity, the owner's response, the creation time, the end's zone, the meeting link.
            Sensitivity = "Confidential", MyResponse = "Tentative", Created = Monday.AddDays(-40), EndTimeZoneId = "Tokyo Standard Time",
            OnlineMeetingUrl = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_day31%40thread.v2/0",
            Attendees = [new SimAttendee("Alisa", ImportWorld.Mailbox, "Tentative"), new SimAttendee(null, "fay@fabrikam.com", "Accept")],
        });
        var team = store.AddFolder(ImportWorld.Mailbox, "Team");
        Assert.Contains('+', team.FolderId); // an id whose EWS and Graph forms differ
        store.Generate(team, 60, Monday, seed: 2);

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
        store.Put(main, new SimCalendarItem { ItemId = MailboxStore.GeneratedItemId(1, 1), Subject = "Renamed", Start = Monday.AddDays(2), End = Monday.AddDays(2).AddHours(1) });
        store.Delete(main, MailboxStore.GeneratedItemId(1, 2));
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
        var throughEws = await SnapshotAsync(ews);
        var throughGraph = await SnapshotAsync(graph);
        // Entry by entry, so a difference names the calendar or event and shows its fields rather than two whole mailboxes.
        Assert.Equal(throughEws.Keys, throughGraph.Keys);
        foreach (var (key, json) in throughEws) Assert.Equal(json, throughGraph[key]);
        Assert.Equal(expectedEvents, throughEws.Keys.Count(k => k.StartsWith("event Calendar/", StringComparison.Ordinal)));
    }

    /// <summary>Every calendar and event the employee can read, keyed by what it names, with the ids inside replaced the same way.</summary>
    private static async Task<SortedDictionary<string, string>> SnapshotAsync(ImportWorld world)
    {
        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var calendar in await world.CalendarsAsync())
        {
            var summary = calendar["summary"]!.GetValue<string>();
            var events = await world.EventsAsync(calendar["calendar_id"]!.GetValue<string>(), pageSize: 1000);
            calendar.Remove("calendar_id");
            snapshot.Add($"calendar {summary}", calendar.ToJsonString());
            // An event id is "{uuid of the series or single}_{original start, 0 for the series itself}".
            var series = events.Where(e => Occurrence(e["event_id"]!) == "0")
                .ToDictionary(e => Uuid(e["event_id"]!), e => $"{e["summary"]!.GetValue<string>()}@{e["start_time"]!.ToJsonString()}");
            string Name(JsonNode id) => $"{series[Uuid(id)]}_{Occurrence(id)}";
            foreach (var e in events)
            {
                var name = Name(e["event_id"]!);
                e["event_id"] = name;
                e["organizer_calendar_id"] = summary;
                if (e["recurring_event_id"] is { } parent) e["recurring_event_id"] = Name(parent);
                snapshot.Add($"event {summary}/{name}", e.ToJsonString());
            }
        }
        return snapshot;
    }

    private static string Uuid(JsonNode eventId) => eventId.GetValue<string>()[..eventId.GetValue<string>().LastIndexOf('_')];

    private static string Occurrence(JsonNode eventId) => eventId.GetValue<string>()[(eventId.GetValue<string>().LastIndexOf('_') + 1)..];
}
