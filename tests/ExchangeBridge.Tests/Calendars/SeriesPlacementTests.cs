using System.Globalization;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Server.Calendars;

namespace ExchangeBridge.Tests.Calendars;

/// <summary>
/// A placement kept by the series cache has every start placed once and finds a range's by a binary search; it must
/// answer every range exactly as the walk of the rule from that range does, exceptions' replaced starts left out alike.
/// </summary>
[Trait("Database", "Independent")]
public sealed class SeriesPlacementTests
{
    public static TheoryData<string> Series => ["weekly-berlin", "every-other-day-new-york", "last-friday-shanghai", "all-day-yearly", "no-end"];

    [Theory]
    [MemberData(nameof(Series))]
    public void Every_start_placed_once_answers_each_range_as_the_walk_from_it(string name)
    {
        var walked = Placement(name);
        var placed = walked.PlaceAll();
        // A series with no end keeps walking: there is no last start to place up to.
        Assert.Equal(name == "no-end", ReferenceEquals(walked, placed));

        var first = new DateTimeOffset(2025, 12, 29, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var replaced = new List<long>();
        for (var week = -4; week < 160; week++)
        {
            // Windows that start on odd hours too, so an occurrence that straddles a range's start is held to the same answer.
            var startMs = first + week * 7 * 86_400_000L + week % 5 * 3_600_000L;
            var endMs = startMs + (week % 3 + 1) * 3 * 86_400_000L;
            List<long> fromWalk = [], fromPlaced = [];
            walked.StartsIn(startMs, endMs, replaced, fromWalk);
            placed.StartsIn(startMs, endMs, replaced, fromPlaced);
            Assert.Equal(fromWalk, fromPlaced);
            // Every fourth week, the first occurrence found is replaced by an exception from then on.
            if (week % 4 == 0 && fromWalk.Count > 0) replaced.Add(fromWalk[0] / 1000);
        }
        Assert.NotEmpty(replaced);
    }

    private static SeriesPlacement Placement(string name)
    {
        var (pattern, zoneId, start, allDay, range) = name switch
        {
            "weekly-berlin" => ((ExchangeRecurrencePattern)new ExchangeRecurrencePattern.Weekly(1, ["Monday", "Wednesday"]), "Europe/Berlin",
                new DateTime(2026, 1, 5, 9, 30, 0), false, (Func<DateOnly, ExchangeRecurrenceRange>)(d => new ExchangeRecurrenceRange.Numbered(d, 60))),
            "every-other-day-new-york" => (new ExchangeRecurrencePattern.Daily(2), "America/New_York", new DateTime(2026, 2, 20, 23, 0, 0), false,
                d => new ExchangeRecurrenceRange.EndDate(d, d.AddDays(400))),
            "last-friday-shanghai" => (new ExchangeRecurrencePattern.RelativeMonthly(1, "Friday", "Last"), "Asia/Shanghai",
                new DateTime(2026, 1, 30, 14, 0, 0), false, d => new ExchangeRecurrenceRange.Numbered(d, 20)),
            "all-day-yearly" => (new ExchangeRecurrencePattern.AbsoluteYearly(3, "March"), "Asia/Shanghai", new DateTime(2026, 3, 3), true,
                d => new ExchangeRecurrenceRange.Numbered(d, 3)),
            _ => (new ExchangeRecurrencePattern.Weekly(2, ["Tuesday"]), "Europe/Berlin", new DateTime(2026, 1, 6, 8, 0, 0), false,
                d => new ExchangeRecurrenceRange.NoEnd(d)),
        };
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var seriesStart = new DateTimeOffset(start, zone.GetUtcOffset(start));
        var rule = RecurrenceRules.ToRRule(new ExchangeRecurrence(pattern, range(DateOnly.FromDateTime(start))), seriesStart, zone, allDay);
        var startMs = seriesStart.ToUnixTimeMilliseconds();
        var placement = allDay
            ? SeriesPlacement.Of(startMs, Day(start), null, null, Day(start.AddDays(1)), null, rule)
            : SeriesPlacement.Of(startMs, null, Seconds(seriesStart), zoneId, null, Seconds(seriesStart.AddMinutes(45)), rule);
        return placement!;
    }

    private static string Day(DateTime day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
}
