using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Import;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Calendars;

/// <summary>
/// The employee's mailbox the calendar read tests stand on, imported through EWS before each test: a weekly stand-up on
/// Mondays whose second occurrence was moved to the Tuesday and whose third was deleted, a private appointment, a block
/// shown as free, a meeting the employee declined, a cancelled one, and a meeting with many attendees.
/// </summary>
public abstract class ImportedWeekTests() : ImportWorldTests(SimulatedConnector.Ews)
{
    protected const int ManyAttendees = 25;

    protected string CalendarId { get; private set; } = "";
    protected string CalendarPath => $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(CalendarId)}";
    protected TestServer Server => World.Server;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var folder = Store.DefaultFolder(Mailbox);
        Store.Put(folder, Standup(Monday) with
        {
            Exceptions = [new SimException("standup-moved", Monday.AddDays(7), Monday.AddDays(8), Monday.AddDays(8).AddMinutes(15), "Standup (moved)")],
            DeletedOccurrences = [Monday.AddDays(14)],
        });
        Store.Put(folder, new SimCalendarItem
        {
            ItemId = "dentist", Subject = "Dentist", Body = "Root canal", Location = "Clinic", Sensitivity = "Private",
            Start = Monday.AddDays(1).AddHours(2), End = Monday.AddDays(1).AddHours(3),
        });
        Store.Put(folder, new SimCalendarItem
        {
            ItemId = "focus", Subject = "Focus time", FreeBusy = "Free", Start = Monday.AddDays(2), End = Monday.AddDays(2).AddHours(2),
        });
        Store.Put(folder, new SimCalendarItem
        {
            ItemId = "declined", Subject = "Vendor pitch", MyResponse = "Decline", Start = Monday.AddDays(3), End = Monday.AddDays(3).AddHours(1),
        });
        Store.Put(folder, new SimCalendarItem
        {
            ItemId = "cancelled", Subject = "Offsite", IsCancelled = true, Start = Monday.AddDays(4), End = Monday.AddDays(4).AddHours(1),
        });
        Store.Put(folder, new SimCalendarItem
        {
            ItemId = "all-hands", Subject = "All hands", Start = Monday.AddDays(4).AddHours(3), End = Monday.AddDays(4).AddHours(4),
            Attendees = Enumerable.Range(1, ManyAttendees).Select(i => new SimAttendee($"Colleague {i}", $"colleague{i:00}@contoso.com")).ToList(),
        });
        await World.BindAsync();
        await World.WaitForStatusAsync("done");
        CalendarId = (await World.CalendarsAsync()).Single()["calendar_id"]!.GetValue<string>();
    }

    /// <summary>The weekly stand-up of 15 minutes, on Mondays from <paramref name="first"/> on, without exceptions.</summary>
    protected static SimCalendarItem Standup(DateTimeOffset first) => new()
    {
        ItemId = "standup", Subject = "Standup", Start = first, End = first.AddMinutes(15),
        Recurrence = new SimRecurrence("<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>",
            $"<t:NoEndRecurrence><t:StartDate>{first:yyyy-MM-dd}</t:StartDate></t:NoEndRecurrence>"),
    };

    /// <summary>The id the import gave an item's event (a series: its master, "{uuid}_0", not its stored occurrences).</summary>
    protected async Task<string> EventIdOfAsync(string summary) =>
        (await World.EventsAsync(CalendarId, pageSize: 50))
        .Single(e => e["summary"]!.GetValue<string>() == summary && !e["is_exception"]!.GetValue<bool>())["event_id"]!.GetValue<string>();

    protected static string Uuid(string eventId) => eventId[..eventId.LastIndexOf('_')];

    protected async Task<JsonObject> GetAsync(string pathAndQuery, string? token = null) =>
        (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Get, pathAndQuery, null, token ?? World.EmployeeToken)))["data"]!.AsObject();

    protected async Task<JsonObject> PostAsync(string path, string body, string? token = null) =>
        (await JsonAssert.SuccessAsync(await Server.SendAsync(HttpMethod.Post, path, body, token ?? World.EmployeeToken)))["data"]!.AsObject();

    /// <summary>Every item of a paged read, following page_token (has_more agreeing with it on every page), and the pages it took.</summary>
    protected async Task<(List<JsonObject> Items, int Pages)> AllPagesAsync(string pathAndQuery)
    {
        var items = new List<JsonObject>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await GetAsync($"{pathAndQuery}&page_token={Uri.EscapeDataString(token)}");
            items.AddRange(page["items"]!.AsArray().Select(i => i!.AsObject()));
            token = page["page_token"]!.GetValue<string>();
            Assert.Equal(token.Length > 0, page["has_more"]!.GetValue<bool>());
            pages++;
        } while (token.Length > 0);
        return (items, pages);
    }

    protected static long Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds();
}
