using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Calendars;

/// <summary>Searching a calendar: text in any case, a time range, attendees; cancelled events are not found.</summary>
public sealed class EventSearchApiTests : ImportedWeekTests
{
    private string Search => $"{CalendarPath}/events/search";

    private async Task<List<string>> SummariesAsync(string body, string query = "") =>
        (await PostAsync($"{Search}{query}", body))["items"]!.AsArray().Select(i => i!["summary"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Text_matches_summary_description_and_location_in_any_case()
    {
        Assert.Equal(new[] { "Dentist" }, await SummariesAsync("""{"query":"root CANAL"}"""));
        Assert.Equal(new[] { "Dentist" }, await SummariesAsync("""{"query":"clinic"}"""));
        Assert.Equal(new[] { "Standup", "Standup (moved)" }, await SummariesAsync("""{"query":"standup"}"""));
        Assert.Empty(await SummariesAsync("""{"query":"offsite"}""")); // cancelled
    }

    [Fact]
    public async Task The_filter_narrows_by_time_and_rooms_match_nothing_imported()
    {
        var tuesday = $"{{\"start_time\":{{\"timestamp\":\"{Seconds(Monday.AddDays(1))}\"}},\"end_time\":{{\"timestamp\":\"{Seconds(Monday.AddDays(2))}\"}}}}";
        Assert.Equal(new[] { "Dentist" }, await SummariesAsync($$"""{"query":"","filter":{{tuesday}}}"""));
        Assert.Empty(await SummariesAsync("""{"query":"","filter":{"room_ids":["omm_1"]}}"""));
    }

    [Fact]
    public async Task Results_page_and_bad_filters_are_refused()
    {
        var first = await PostAsync($"{Search}?page_size=10", """{"query":""}""");
        Assert.Equal(6, first["items"]!.AsArray().Count); // every stored event but the cancelled one and the deleted occurrence
        Assert.Equal("", first["page_token"]!.GetValue<string>());
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, Search, """{"query":"x","filter":{"start_time":{}}}""", World.EmployeeToken), 400, 190002);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Post, Search, "{}", World.EmployeeToken), 400, 190002);
    }
}
