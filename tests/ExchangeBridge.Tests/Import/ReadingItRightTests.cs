using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>What Outlook shows, read through EWS.</summary>
public sealed class EwsReadingItRightTests() : ReadingItRightTests(SimulatedConnector.Ews)
{
    [Fact]
    public async Task A_custom_time_zone_keeps_its_rules_so_a_berlin_series_stays_at_nine_after_the_clocks_change()
    {
        // 09:00 in Berlin on 2026-12-07 (winter, UTC+1) is 08:00Z; after the March change it is 07:00Z. In UTC the series
        // would show at 10:00 in summer.
        var start = new DateTimeOffset(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);
        await using var imported = await ImportAsync(new SimCalendarItem
        {
            ItemId = "custom-zone", Subject = "Berlin stand-up", Start = start, End = start.AddMinutes(30),
            TimeZoneId = "Customized Time Zone", CustomTimeZoneRulesXml = BerlinRules,
            Recurrence = new SimRecurrence("<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>",
                "<t:NoEndRecurrence><t:StartDate>2026-12-07</t:StartDate></t:NoEndRecurrence>"),
        });
        var series = imported.Events.Single();
        Assert.Equal("Europe/Berlin", series["start_time"]!["timezone"]!.GetValue<string>());
        Assert.Equal("Europe/Berlin", series["end_time"]!["timezone"]!.GetValue<string>());
    }

    /// <summary>Central European rules as desktop Outlook writes a custom zone: biases of -1h and -2h, changes on the last Sundays of March and October.</summary>
    private const string BerlinRules =
        "<t:Periods><t:Period Bias=\"-PT1H\" Name=\"Standard\" Id=\"Std\" /><t:Period Bias=\"-PT2H\" Name=\"Daylight\" Id=\"Dlt\" /></t:Periods>" +
        "<t:TransitionsGroups><t:TransitionsGroup Id=\"0\">" +
        "<t:RecurringDayTransition><t:To Kind=\"Period\">Dlt</t:To><t:TimeOffset>PT2H</t:TimeOffset><t:Month>3</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence></t:RecurringDayTransition>" +
        "<t:RecurringDayTransition><t:To Kind=\"Period\">Std</t:To><t:TimeOffset>PT3H</t:TimeOffset><t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>-1</t:Occurrence></t:RecurringDayTransition>" +
        "</t:TransitionsGroup></t:TransitionsGroups>" +
        "<t:Transitions><t:Transition><t:To Kind=\"Group\">0</t:To></t:Transition></t:Transitions>";
}

/// <summary>What Outlook shows, read through Microsoft Graph.</summary>
public sealed class GraphReadingItRightTests() : ReadingItRightTests(SimulatedConnector.Graph);

/// <summary>
/// Items whose reading once differed from what Outlook shows (issue 16, "Reading it right"), imported from the simulator
/// through one connector and read back through the calendar API. Every test runs for each connector.
/// </summary>
public abstract class ReadingItRightTests(SimulatedConnector connector)
{
    private const string Mailbox = ImportWorld.Mailbox;
    private static readonly DateTimeOffset Monday = ImportWorld.Monday;

    [Fact]
    public async Task Day_31_of_every_month_falls_on_the_last_day_of_shorter_months_and_the_count_ends_the_series()
    {
        // Dec 31, Jan 31, Feb 28, Mar 31, Apr 30, May 31: the sixth is the last.
        var start = new DateTimeOffset(2026, 12, 31, 1, 0, 0, TimeSpan.Zero);
        await using var imported = await ImportAsync(Series("day-31", start, "<t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>31</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>",
            "<t:NumberedRecurrence><t:StartDate>2026-12-31</t:StartDate><t:NumberOfOccurrences>6</t:NumberOfOccurrences></t:NumberedRecurrence>"),
            Series("day-30", start.AddDays(-1), "<t:AbsoluteMonthlyRecurrence><t:Interval>1</t:Interval><t:DayOfMonth>30</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>",
            "<t:NoEndRecurrence><t:StartDate>2026-12-30</t:StartDate></t:NoEndRecurrence>"),
            Series("feb-29", new DateTimeOffset(2028, 2, 29, 1, 0, 0, TimeSpan.Zero), "<t:AbsoluteYearlyRecurrence><t:DayOfMonth>29</t:DayOfMonth><t:Month>February</t:Month></t:AbsoluteYearlyRecurrence>",
            "<t:NoEndRecurrence><t:StartDate>2028-02-29</t:StartDate></t:NoEndRecurrence>"));

        var events = imported.Events.ToDictionary(e => e["summary"]!.GetValue<string>());
        Assert.Equal("FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1;COUNT=6", events["day-31"]["recurrence"]!.GetValue<string>());
        Assert.Equal("FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=28,29,30;BYSETPOS=-1", events["day-30"]["recurrence"]!.GetValue<string>());
        Assert.Equal("FREQ=YEARLY;INTERVAL=1;BYMONTH=2;BYMONTHDAY=-1", events["feb-29"]["recurrence"]!.GetValue<string>());

        var lastOccurrence = new DateTimeOffset(2027, 5, 31, 1, 0, 0, TimeSpan.Zero);
        Assert.Contains("day-31", await imported.SummariesBetweenAsync(lastOccurrence.AddHours(-1), lastOccurrence.AddHours(1)));
        Assert.DoesNotContain("day-31", await imported.SummariesBetweenAsync(lastOccurrence.AddDays(1), lastOccurrence.AddDays(60)));
        Assert.Contains("day-30", await imported.SummariesBetweenAsync(lastOccurrence.AddDays(1), lastOccurrence.AddDays(60)));
    }

    [Fact]
    public async Task A_series_is_not_listed_for_ranges_after_its_last_occurrence()
    {
        await using var imported = await ImportAsync(Series("three-mondays", Monday, "<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>",
            "<t:NumberedRecurrence><t:StartDate>2026-11-30</t:StartDate><t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence>"),
            Series("until-december", Monday, "<t:DailyRecurrence><t:Interval>2</t:Interval></t:DailyRecurrence>",
            "<t:EndDateRecurrence><t:StartDate>2026-11-30</t:StartDate><t:EndDate>2026-12-11</t:EndDate></t:EndDateRecurrence>"));

        // The third Monday is Dec 14; the every-other-day series' last day is Dec 10 (Dec 11 is not one of its days).
        Assert.Equal(["three-mondays", "until-december"], await imported.SummariesBetweenAsync(Monday.AddDays(10), Monday.AddDays(10).AddHours(2)));
        Assert.Equal(["three-mondays"], await imported.SummariesBetweenAsync(Monday.AddDays(14), Monday.AddDays(14).AddHours(2)));
        Assert.Empty(await imported.SummariesBetweenAsync(Monday.AddDays(15), Monday.AddDays(400)));
    }

    [Theory]
    [InlineData("Normal", "default")]
    [InlineData("Personal", "default")]
    [InlineData("Private", "private")]
    [InlineData("Confidential", "private")]
    public async Task Sensitivity_is_carried_to_the_event_visibility(string sensitivity, string visibility)
    {
        await using var imported = await ImportAsync(
            new SimCalendarItem { ItemId = "sensitive", Subject = "Doctor", Start = Monday, End = Monday.AddHours(1), Sensitivity = sensitivity });
        Assert.Equal(visibility, imported.Events.Single()["visibility"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_meeting_link_own_response_creation_time_end_zone_and_attendees_are_read()
    {
        await using var imported = await ImportAsync(new SimCalendarItem
        {
            ItemId = "flight", Subject = "Flight to Tokyo", Start = Monday, End = Monday.AddHours(11), TimeZoneId = "Pacific Standard Time",
            EndTimeZoneId = "Tokyo Standard Time", Created = Monday.AddDays(-20), LastModified = Monday.AddDays(-2), MyResponse = "Tentative",
            OnlineMeetingUrl = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_flight%40thread.v2/0",
            Organizer = new SimPerson("Bob", "bob@contoso.com"),
            Attendees = [new SimAttendee("Alisa", Mailbox, "Tentative"), new SimAttendee("Bob", "bob@contoso.com", "Accept"),
                new SimAttendee("Fay", "fay@fabrikam.com", "Decline", Optional: true)],
        });
        var flight = imported.Events.Single();

        Assert.Equal("America/Los_Angeles", flight["start_time"]!["timezone"]!.GetValue<string>());
        Assert.Equal("Asia/Tokyo", flight["end_time"]!["timezone"]!.GetValue<string>());
        Assert.Equal(Monday.AddDays(-20).ToUnixTimeSeconds().ToString(), flight["create_time"]!.GetValue<string>());
        Assert.Equal("tentative", flight["self_rsvp_status"]!.GetValue<string>());
        Assert.Equal("third_party", flight["vchat"]!["vc_type"]!.GetValue<string>());
        Assert.Equal("https://teams.microsoft.com/l/meetup-join/19%3ameeting_flight%40thread.v2/0", flight["vchat"]!["meeting_url"]!.GetValue<string>());
        var attendees = flight["attendees"]!.AsArray().Select(a => a!.AsObject()).ToDictionary(a => a["third_party_email"]!.GetValue<string>());
        Assert.False(attendees[Mailbox]["is_external"]!.GetValue<bool>());
        Assert.False(attendees["bob@contoso.com"]["is_external"]!.GetValue<bool>());
        Assert.True(attendees["fay@fabrikam.com"]["is_external"]!.GetValue<bool>());
        Assert.Equal(3, attendees.Values.Select(a => a["attendee_id"]!.GetValue<string>()).Distinct().Count());

        // Event get answers attendees only when asked, at most max_attendee_num of them.
        var eventId = flight["event_id"]!.GetValue<string>();
        var world = imported.World;
        var plain = await world.EventAsync(imported.CalendarId, eventId);
        Assert.Null(plain["attendees"]);
        var two = await world.EventAsync(imported.CalendarId, eventId, "need_attendee=true&max_attendee_num=2");
        Assert.Equal(2, two["attendees"]!.AsArray().Count);
        Assert.True(two["has_more_attendee"]!.GetValue<bool>());
        var all = await world.EventAsync(imported.CalendarId, eventId, "need_attendee=true");
        Assert.Equal(3, all["attendees"]!.AsArray().Count);
        Assert.False(all["has_more_attendee"]!.GetValue<bool>());
        var refused = await world.Server.SendAsync(HttpMethod.Get,
            $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(imported.CalendarId)}/events/{eventId}?need_attendee=true&max_attendee_num=101", null,
            (await world.Server.UserTokensAsync(world.EmployeeOpenId)).AccessToken);
        Assert.Equal(190002, (await TestServer.ReadAsync(refused))["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Zone_names_are_canonical_iana()
    {
        await using var imported = await ImportAsync(
            new SimCalendarItem { ItemId = "india", Subject = "Bangalore sync", Start = Monday, End = Monday.AddHours(1), TimeZoneId = "India Standard Time" });
        var india = imported.Events.Single();
        Assert.Equal("Asia/Kolkata", india["start_time"]!["timezone"]!.GetValue<string>());
    }

    /// <summary>
    /// A simulator whose mailbox holds <paramref name="items"/>, a server that has imported it through the connector under
    /// test, and the default calendar's events as the calendar API answers them.
    /// </summary>
    protected async Task<Imported> ImportAsync(params SimCalendarItem[] items)
    {
        var simulator = await SimulatorHost.StartAsync();
        foreach (var item in items) simulator.Store.Put(simulator.Store.DefaultFolder(Mailbox), item);
        var world = await ImportWorld.StartAsync(simulator, connector);
        await world.BindAsync();
        Assert.Equal("done", await world.WaitForStatusAsync("done", "err"));
        var calendarId = (await world.CalendarsAsync()).Single(c => c["summary"]!.GetValue<string>() == "Calendar")["calendar_id"]!.GetValue<string>();
        return new Imported(simulator, world, calendarId, await world.EventsAsync(calendarId, pageSize: 100));
    }

    protected sealed record Imported(SimulatorHost Simulator, ImportWorld World, string CalendarId, List<JsonObject> Events) : IAsyncDisposable
    {
        public async Task<List<string>> SummariesBetweenAsync(DateTimeOffset from, DateTimeOffset to) =>
            (await World.EventsBetweenAsync(CalendarId, from, to)).Select(e => e["summary"]!.GetValue<string>()).Order().ToList();

        public async ValueTask DisposeAsync()
        {
            await World.DisposeAsync();
            await Simulator.DisposeAsync();
        }
    }

    private static SimCalendarItem Series(string id, DateTimeOffset start, string pattern, string range) => new()
    {
        ItemId = id, Subject = id, Start = start, End = start.AddHours(1), Recurrence = new SimRecurrence(pattern, range),
    };
}
