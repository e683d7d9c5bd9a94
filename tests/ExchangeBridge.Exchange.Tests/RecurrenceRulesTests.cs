using ExchangeBridge.Core.Exchange;
using Pattern = ExchangeBridge.Core.Exchange.EwsRecurrencePattern;
using Range = ExchangeBridge.Core.Exchange.EwsRecurrenceRange;

namespace ExchangeBridge.Exchange.Tests;

public class RecurrenceRulesTests
{
    private static readonly DateOnly March8 = new(2014, 3, 8);
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private static readonly TimeZoneInfo LosAngeles = TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles");

    public static TheoryData<Pattern, string> Patterns => new()
    {
        { new Pattern.Daily(1), "FREQ=DAILY;INTERVAL=1" },
        { new Pattern.Daily(3), "FREQ=DAILY;INTERVAL=3" },
        { new Pattern.Weekly(1, ["Saturday"]), "FREQ=WEEKLY;INTERVAL=1;BYDAY=SA" },
        { new Pattern.Weekly(2, ["Wednesday", "Monday", "Sunday"]), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,SU" },
        { new Pattern.Weekly(1, ["Weekday"]), "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR" },
        { new Pattern.Weekly(1, ["Monday"], "Sunday"), "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;WKST=SU" },
        { new Pattern.AbsoluteMonthly(1, 15), "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=15" },
        { new Pattern.RelativeMonthly(1, "Tuesday", "Second"), "FREQ=MONTHLY;INTERVAL=1;BYDAY=2TU" },
        { new Pattern.RelativeMonthly(2, "Friday", "Last"), "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR" },
        { new Pattern.RelativeMonthly(1, "Day", "First"), "FREQ=MONTHLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYSETPOS=1" },
        { new Pattern.RelativeMonthly(1, "Weekday", "Last"), "FREQ=MONTHLY;INTERVAL=1;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1" },
        { new Pattern.RelativeMonthly(1, "WeekendDay", "Third"), "FREQ=MONTHLY;INTERVAL=1;BYDAY=SA,SU;BYSETPOS=3" },
        { new Pattern.RelativeMonthly(1, "Thursday", "Fourth"), "FREQ=MONTHLY;INTERVAL=1;BYDAY=4TH" },
        { new Pattern.AbsoluteYearly(25, "December"), "FREQ=YEARLY;INTERVAL=1;BYMONTH=12;BYMONTHDAY=25" },
        { new Pattern.RelativeYearly("Thursday", "Fourth", "November"), "FREQ=YEARLY;INTERVAL=1;BYMONTH=11;BYDAY=4TH" },
        { new Pattern.RelativeYearly("Weekday", "First", "January"), "FREQ=YEARLY;INTERVAL=1;BYMONTH=1;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1" },
    };

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Pattern_without_end_maps_to_rrule(Pattern pattern, string expected)
    {
        var rule = RecurrenceRules.ToRRule(new EwsRecurrence(pattern, new Range.NoEnd(March8)), At("2014-03-08T09:00:00+08:00"), Shanghai, false);
        Assert.Equal(expected, rule);
    }

    [Fact]
    public void Numbered_range_is_count()
    {
        var recurrence = new EwsRecurrence(new Pattern.Weekly(1, ["Saturday"]), new Range.Numbered(March8, 10));
        Assert.Equal("FREQ=WEEKLY;INTERVAL=1;BYDAY=SA;COUNT=10",
            RecurrenceRules.ToRRule(recurrence, At("2014-03-08T21:21:00Z"), LosAngeles, false));
    }

    [Fact]
    public void End_date_is_until_at_the_series_start_time_in_utc()
    {
        // 09:30 in Shanghai on the end date is 01:30 UTC.
        var recurrence = new EwsRecurrence(new Pattern.Daily(1), new Range.EndDate(March8, new DateOnly(2014, 3, 20)));
        Assert.Equal("FREQ=DAILY;INTERVAL=1;UNTIL=20140320T013000Z",
            RecurrenceRules.ToRRule(recurrence, At("2014-03-08T01:30:00Z"), Shanghai, false));
    }

    [Fact]
    public void End_date_follows_daylight_saving_of_the_series_zone()
    {
        // 10:00 Pacific: PST (UTC-8) when the series starts, PDT (UTC-7) on the end date.
        var recurrence = new EwsRecurrence(new Pattern.Weekly(1, ["Monday"]), new Range.EndDate(new DateOnly(2014, 3, 3), new DateOnly(2014, 3, 31)));
        Assert.Equal("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;UNTIL=20140331T170000Z",
            RecurrenceRules.ToRRule(recurrence, At("2014-03-03T18:00:00Z"), LosAngeles, false));
    }

    [Fact]
    public void All_day_series_has_a_date_until()
    {
        var recurrence = new EwsRecurrence(new Pattern.AbsoluteYearly(1, "May"), new Range.EndDate(March8, new DateOnly(2020, 5, 1)));
        Assert.Equal("FREQ=YEARLY;INTERVAL=1;BYMONTH=5;BYMONTHDAY=1;UNTIL=20200501",
            RecurrenceRules.ToRRule(recurrence, At("2014-04-30T16:00:00Z"), Shanghai, true));
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}

public class EwsValuesTests
{
    [Theory]
    [InlineData("China Standard Time", "Asia/Shanghai")]
    [InlineData("Pacific Standard Time", "America/Los_Angeles")]
    [InlineData("W. Europe Standard Time", "Europe/Berlin")]
    [InlineData("Tokyo Standard Time", "Asia/Tokyo")]
    [InlineData("UTC", "Etc/UTC")]
    [InlineData("Europe/Paris", "Europe/Paris")]
    [InlineData("Customized Time Zone", "UTC")]
    [InlineData(null, "UTC")]
    public void Windows_zone_ids_become_iana(string? windows, string iana) => Assert.Equal(iana, EwsValues.ToIanaTimeZone(windows));

    [Theory]
    [InlineData("Accept", AttendeeResponse.Accept)]
    [InlineData("Organizer", AttendeeResponse.Accept)]
    [InlineData("Tentative", AttendeeResponse.Tentative)]
    [InlineData("Decline", AttendeeResponse.Decline)]
    [InlineData("NoResponseReceived", AttendeeResponse.NeedsAction)]
    [InlineData("Unknown", AttendeeResponse.NeedsAction)]
    [InlineData(null, AttendeeResponse.NeedsAction)]
    public void Response_types_become_rsvp(string? responseType, AttendeeResponse expected) =>
        Assert.Equal(expected, EwsValues.ToAttendeeResponse(responseType));

    [Theory]
    [InlineData("Free", FreeBusy.Free)]
    [InlineData("Tentative", FreeBusy.Tentative)]
    [InlineData("Busy", FreeBusy.Busy)]
    [InlineData("OOF", FreeBusy.OutOfOffice)]
    [InlineData("WorkingElsewhere", FreeBusy.WorkingElsewhere)]
    [InlineData("NoData", FreeBusy.Busy)]
    public void Legacy_free_busy_maps(string status, FreeBusy expected) => Assert.Equal(expected, EwsValues.ToFreeBusy(status));
}
