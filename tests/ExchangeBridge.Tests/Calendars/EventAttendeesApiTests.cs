using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Calendars;

/// <summary>An event's attendees page by page, each once; an occurrence of a series has the series' attendees.</summary>
public sealed class EventAttendeesApiTests : ImportedWeekTests
{
    [Fact]
    public async Task Attendees_come_page_by_page_each_once()
    {
        var eventId = await EventIdOfAsync("All hands");
        var (attendees, pages) = await AllPagesAsync($"{CalendarPath}/events/{eventId}/attendees?page_size=10&user_id_type=open_id");
        var seen = attendees.Select(a => a["third_party_email"]!.GetValue<string>()).ToList();

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Range(1, ManyAttendees).Select(i => $"colleague{i:00}@contoso.com"), seen);
    }

    [Fact]
    public async Task A_page_size_outside_the_documented_bounds_is_refused_and_others_read_nothing()
    {
        var eventId = await EventIdOfAsync("All hands");
        foreach (var size in new[] { 9, 101 })
            await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
                $"{CalendarPath}/events/{eventId}/attendees?page_size={size}", null, World.EmployeeToken), 400, 190002);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            $"{CalendarPath}/events/{eventId}/attendees", null, World.AdminToken), 403, 191002);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            $"{CalendarPath}/events/{Uuid(eventId)}_5/attendees", null, World.EmployeeToken), 404, 193001);
    }

    [Fact]
    public async Task An_occurrence_has_its_series_attendees()
    {
        var series = await EventIdOfAsync("Standup");
        var occurrence = $"{Uuid(series)}_{Seconds(Monday.AddDays(21))}";
        var page = await GetAsync($"{CalendarPath}/events/{occurrence}/attendees");
        Assert.False(page["has_more"]!.GetValue<bool>());
        Assert.Equal((await GetAsync($"{CalendarPath}/events/{series}/attendees")).ToJsonString(), page.ToJsonString());
    }
}
