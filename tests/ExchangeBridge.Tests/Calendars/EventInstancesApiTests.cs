using System.Globalization;
using System.Text.Json.Nodes;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Calendars;

/// <summary>
/// instance_view and a series' instances: the stand-up expanded week by week as Outlook shows it, the moved occurrence
/// where it was moved to (under the id of the Monday it replaces), the deleted one cancelled, singles as they are.
/// </summary>
public sealed class EventInstancesApiTests : ImportedWeekTests
{
    [Fact]
    public async Task The_instance_view_expands_the_series_with_its_moved_and_deleted_occurrences_in_place()
    {
        var series = Uuid(await EventIdOfAsync("Standup"));
        var view = await GetAsync($"{CalendarPath}/events/instance_view?start_time={Seconds(Monday.AddHours(-1))}&end_time={Seconds(Monday.AddDays(28))}");
        var standups = view["items"]!.AsArray().Select(i => i!.AsObject()).Where(i => i["summary"]!.GetValue<string>().StartsWith("Standup")).ToList();

        Assert.Equal(
            new (string, long, string, string)[]
            {
                ($"{series}_{Seconds(Monday)}", Seconds(Monday), "Standup", "confirmed"),
                ($"{series}_{Seconds(Monday.AddDays(7))}", Seconds(Monday.AddDays(8)), "Standup (moved)", "confirmed"),
                ($"{series}_{Seconds(Monday.AddDays(14))}", Seconds(Monday.AddDays(14)), "Standup", "cancelled"),
                ($"{series}_{Seconds(Monday.AddDays(21))}", Seconds(Monday.AddDays(21)), "Standup", "confirmed"),
            },
            standups.Select(i => (i["event_id"]!.GetValue<string>(), long.Parse(i["start_time"]!["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture),
                i["summary"]!.GetValue<string>(), i["status"]!.GetValue<string>())));
        Assert.All(standups, i => Assert.Equal($"{series}_0", i["recurring_event_id"]!.GetValue<string>()));
        Assert.All(standups, i => Assert.Null(i["recurrence"]));
        var first = standups[0];
        Assert.Equal(Seconds(Monday.AddMinutes(15)).ToString(CultureInfo.InvariantCulture), first["end_time"]!["timestamp"]!.GetValue<string>());
        Assert.False(first["is_exception"]!.GetValue<bool>());
        Assert.True(standups[1]["is_exception"]!.GetValue<bool>());

        // The singles of the first week are there as stored, the owner seeing every detail of the private one.
        var dentist = view["items"]!.AsArray().Single(i => i!["summary"]!.GetValue<string>() == "Dentist")!;
        Assert.Equal("private", dentist["visibility"]!.GetValue<string>());
        Assert.Equal("Root canal", dentist["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_instance_view_answers_a_range_with_no_event_with_an_empty_list_not_event_not_found()
    {
        var view = await GetAsync($"{CalendarPath}/events/instance_view?start_time={Seconds(Monday.AddDays(-30))}&end_time={Seconds(Monday.AddDays(-20))}");
        Assert.Empty(view["items"]!.AsArray());
    }

    [Fact]
    public async Task The_instance_view_keeps_the_documented_limits()
    {
        var path = $"{CalendarPath}/events/instance_view";
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            $"{path}?start_time={Seconds(Monday)}&end_time={Seconds(Monday.AddDays(40).AddSeconds(1))}", null, World.EmployeeToken), 400, 193103);
        await GetAsync($"{path}?start_time={Seconds(Monday)}&end_time={Seconds(Monday.AddDays(40))}");
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get, $"{path}?start_time={Seconds(Monday)}", null, World.EmployeeToken), 400, 190002);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            $"{path}?start_time={Seconds(Monday)}&end_time={Seconds(Monday)}", null, World.EmployeeToken), 400, 190002);
        // Another user's calendar is not theirs to read, whatever the endpoint.
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            $"{path}?start_time={Seconds(Monday)}&end_time={Seconds(Monday.AddDays(1))}", null, World.AdminToken), 403, 191002);
    }

    [Fact]
    public async Task A_series_instances_come_page_by_page_each_once()
    {
        var seriesId = await EventIdOfAsync("Standup");
        var (instances, pages) = await AllPagesAsync(
            $"{CalendarPath}/events/{seriesId}/instances?start_time={Seconds(Monday)}&end_time={Seconds(Monday.AddDays(7 * 25))}&page_size=10");
        var seen = instances.Select(i => i["event_id"]!.GetValue<string>()).ToList();

        Assert.Equal(3, pages);
        Assert.Equal(25, seen.Count); // the Mondays of 25 weeks: the second moved to its Tuesday, the third deleted (cancelled)
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Contains($"{Uuid(seriesId)}_{Seconds(Monday.AddDays(7))}", seen);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            $"{CalendarPath}/events/{seriesId}/instances?start_time={Seconds(Monday)}&end_time={Seconds(Monday.AddDays(7))}&page_size=9",
            null, World.EmployeeToken), 400, 190002);
        await JsonAssert.ErrorAsync(await Server.SendAsync(HttpMethod.Get,
            $"{CalendarPath}/events/{Uuid(seriesId)}x_0/instances?start_time={Seconds(Monday)}&end_time={Seconds(Monday.AddDays(7))}",
            null, World.EmployeeToken), 404, 193001);
    }
}
