using ExchangeBridge.Core.Exchange;
using Pattern = ExchangeBridge.Core.Exchange.ExchangeRecurrencePattern;
using Range = ExchangeBridge.Core.Exchange.ExchangeRecurrenceRange;

namespace ExchangeBridge.Connectors.Tests;

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
        var rule = RecurrenceRules.ToRRule(new ExchangeRecurrence(pattern, new Range.NoEnd(March8)), At("2014-03-08T09:00:00+08:00"), Shanghai, false);
        Assert.Equal(expected, rule);
    }

    [Fact]
    public void Numbered_range_is_count()
    {
        var recurrence = new ExchangeRecurrence(new Pattern.Weekly(1, ["Saturday"]), new Range.Numbered(March8, 10));
        Assert.Equal("FREQ=WEEKLY;INTERVAL=1;BYDAY=SA;COUNT=10",
            RecurrenceRules.ToRRule(recurrence, At("2014-03-08T21:21:00Z"), LosAngeles, false));
    }

    [Fact]
    public void End_date_is_until_at_the_series_start_time_in_utc()
    {
        // 09:30 in Shanghai on the end date is 01:30 UTC.
        var recurrence = new ExchangeRecurrence(new Pattern.Daily(1), new Range.EndDate(March8, new DateOnly(2014, 3, 20)));
        Assert.Equal("FREQ=DAILY;INTERVAL=1;UNTIL=20140320T013000Z",
            RecurrenceRules.ToRRule(recurrence, At("2014-03-08T01:30:00Z"), Shanghai, false));
    }

    [Fact]
    public void End_date_follows_daylight_saving_of_the_series_zone()
    {
        // 10:00 Pacific: PST (UTC-8) when the series starts, PDT (UTC-7) on the end date.
        var recurrence = new ExchangeRecurrence(new Pattern.Weekly(1, ["Monday"]), new Range.EndDate(new DateOnly(2014, 3, 3), new DateOnly(2014, 3, 31)));
        Assert.Equal("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;UNTIL=20140331T170000Z",
            RecurrenceRules.ToRRule(recurrence, At("2014-03-03T18:00:00Z"), LosAngeles, false));
    }

    [Fact]
    public void All_day_series_has_a_date_until()
    {
        var recurrence = new ExchangeRecurrence(new Pattern.AbsoluteYearly(1, "May"), new Range.EndDate(March8, new DateOnly(2020, 5, 1)));
        Assert.Equal("FREQ=YEARLY;INTERVAL=1;BYMONTH=5;BYMONTHDAY=1;UNTIL=20200501",
            RecurrenceRules.ToRRule(recurrence, At("2014-04-30T16:00:00Z"), Shanghai, true));
    }

    [Theory]
    [InlineData(29, "BYMONTHDAY=28,29;BYSETPOS=-1")]
    [InlineData(30, "BYMONTHDAY=28,29,30;BYSETPOS=-1")]
    [InlineData(31, "BYMONTHDAY=-1")]
    [InlineData(28, "BYMONTHDAY=28")]
    public void A_monthly_day_some_months_lack_is_their_last_day(int day, string byMonthDay) =>
        Assert.Equal($"FREQ=MONTHLY;INTERVAL=1;{byMonthDay}",
            RecurrenceRules.ToRRule(new ExchangeRecurrence(new Pattern.AbsoluteMonthly(1, day), new Range.NoEnd(March8)), At("2014-03-08T01:00:00Z"), Shanghai, false));

    [Theory]
    [InlineData(29, "February", "BYMONTH=2;BYMONTHDAY=-1")]
    [InlineData(31, "April", "BYMONTH=4;BYMONTHDAY=-1")]
    [InlineData(30, "April", "BYMONTH=4;BYMONTHDAY=30")]
    [InlineData(31, "January", "BYMONTH=1;BYMONTHDAY=31")]
    public void A_yearly_day_its_month_lacks_some_years_is_the_month_last_day(int day, string month, string byMonth) =>
        Assert.Equal($"FREQ=YEARLY;INTERVAL=1;{byMonth}",
            RecurrenceRules.ToRRule(new ExchangeRecurrence(new Pattern.AbsoluteYearly(day, month), new Range.NoEnd(March8)), At("2014-03-08T01:00:00Z"), Shanghai, false));

    [Fact]
    public void Day_31_of_every_month_is_on_outlooks_dates()
    {
        var dates = SeriesOccurrences.Dates(new Pattern.AbsoluteMonthly(1, 31), new DateOnly(2027, 1, 31)).Take(4);
        Assert.Equal([new DateOnly(2027, 1, 31), new DateOnly(2027, 2, 28), new DateOnly(2027, 3, 31), new DateOnly(2027, 4, 30)], dates);
    }

    public static TheoryData<Pattern, Range, string> Series => new()
    {
        { new Pattern.AbsoluteMonthly(1, 31), new Range.Numbered(new DateOnly(2026, 12, 31), 14), "2026-12-31T09:00:00" },
        { new Pattern.AbsoluteMonthly(2, 30), new Range.Numbered(new DateOnly(2027, 10, 30), 12), "2027-10-30T09:00:00" },
        { new Pattern.AbsoluteMonthly(1, 29), new Range.EndDate(new DateOnly(2027, 1, 29), new DateOnly(2029, 3, 1)), "2027-01-29T09:00:00" },
        { new Pattern.AbsoluteYearly(29, "February"), new Range.Numbered(new DateOnly(2028, 2, 29), 9), "2028-02-29T09:00:00" },
        { new Pattern.AbsoluteYearly(31, "March"), new Range.Numbered(new DateOnly(2027, 3, 31), 3), "2027-03-31T02:30:00" },
        { new Pattern.Weekly(2, ["Monday", "Thursday"], "Monday"), new Range.EndDate(new DateOnly(2027, 3, 1), new DateOnly(2027, 6, 3)), "2027-03-01T09:00:00" },
        { new Pattern.Weekly(1, ["Weekday"]), new Range.Numbered(new DateOnly(2027, 3, 24), 20), "2027-03-24T09:00:00" },
        { new Pattern.Daily(3), new Range.Numbered(new DateOnly(2027, 3, 20), 10), "2027-03-20T09:00:00" },
        { new Pattern.RelativeMonthly(1, "Weekday", "Last"), new Range.Numbered(new DateOnly(2027, 1, 29), 13), "2027-01-29T09:00:00" },
        { new Pattern.RelativeMonthly(3, "Friday", "Second"), new Range.EndDate(new DateOnly(2027, 1, 8), new DateOnly(2029, 1, 1)), "2027-01-08T09:00:00" },
        { new Pattern.RelativeYearly("Sunday", "Last", "October"), new Range.Numbered(new DateOnly(2027, 10, 31), 4), "2027-10-31T09:00:00" },
    };

    /// <summary>
    /// An independent RFC 5545 expander (Ical.Net) of the RRULE we write, from the series' first occurrence in Berlin, gives
    /// the dates and the last occurrence our own expansion (Outlook's rules) gives: the rule and the read side agree.
    /// </summary>
    [Theory]
    [MemberData(nameof(Series))]
    public void The_rrule_expands_to_the_dates_outlook_shows(Pattern pattern, Range range, string firstLocal)
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var local = DateTime.Parse(firstLocal, System.Globalization.CultureInfo.InvariantCulture);
        var seriesStart = new DateTimeOffset(local, berlin.GetUtcOffset(local));
        var recurrence = new ExchangeRecurrence(pattern, range);
        var rule = RecurrenceRules.ToRRule(recurrence, seriesStart, berlin, isAllDay: false);

        var calendarEvent = new Ical.Net.CalendarComponents.CalendarEvent
        {
            DtStart = new Ical.Net.DataTypes.CalDateTime(local, "Europe/Berlin"),
            Duration = Ical.Net.DataTypes.Duration.FromHours(1),
            RecurrenceRule = new Ical.Net.DataTypes.RecurrenceRule(rule),
        };
        var theirs = calendarEvent.GetOccurrences().Take(200).Select(o => o.Period.StartTime.AsUtc).ToList();
        var ours = SeriesOccurrences.Dates(pattern, range.StartDate)
            .TakeWhile((date, index) => range is Range.Numbered n ? index < n.NumberOfOccurrences : date <= ((Range.EndDate)range).LastDate)
            .Select(date => RecurrenceRules.OccurrenceStart(date, seriesStart, berlin, isAllDay: false).UtcDateTime).ToList();

        Assert.Equal(ours, theirs);
        Assert.Equal(ours[^1], SeriesOccurrences.LastStart(recurrence, seriesStart, berlin, isAllDay: false)!.Value.UtcDateTime);
    }

    [Fact]
    public void A_series_without_end_has_no_last_occurrence() =>
        Assert.Null(SeriesOccurrences.LastStart(new ExchangeRecurrence(new Pattern.Daily(1), new Range.NoEnd(March8)), At("2014-03-08T01:00:00Z"), Shanghai, false));

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}

public class CustomTimeZoneTests
{
    private static readonly ZoneTransition LastSundayOfMarch = new(3, -1, DayOfWeek.Sunday, TimeSpan.FromHours(2));
    private static readonly ZoneTransition LastSundayOfOctober = new(10, -1, DayOfWeek.Sunday, TimeSpan.FromHours(3));
    private static readonly DateTimeOffset Winter = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Central_european_rules_are_berlin() =>
        Assert.Equal("Europe/Berlin", new CustomTimeZone("Customized Time Zone", TimeSpan.FromHours(1), TimeSpan.FromHours(2),
            LastSundayOfMarch, LastSundayOfOctober).ToIana(Winter));

    [Fact]
    public void A_city_the_definition_names_wins_among_zones_with_the_same_rules() =>
        Assert.Equal("Europe/Paris", new CustomTimeZone("(UTC+01:00) Brussels, Copenhagen, Madrid, Paris", TimeSpan.FromHours(1),
            TimeSpan.FromHours(2), LastSundayOfMarch, LastSundayOfOctober).ToIana(Winter));

    [Fact]
    public void A_fixed_offset_is_a_zone_without_daylight_saving_not_utc() =>
        Assert.Equal("Asia/Kathmandu", new CustomTimeZone("Customized Time Zone", new TimeSpan(5, 45, 0)).ToIana(Winter));

    [Fact]
    public void Rules_no_zone_has_match_none() =>
        Assert.Null(new CustomTimeZone("Customized Time Zone", TimeSpan.FromMinutes(17)).ToIana(Winter));
}

public class ExchangeValuesTests
{
    [Theory]
    [InlineData("China Standard Time", "Asia/Shanghai")]
    [InlineData("Pacific Standard Time", "America/Los_Angeles")]
    [InlineData("W. Europe Standard Time", "Europe/Berlin")]
    [InlineData("Tokyo Standard Time", "Asia/Tokyo")]
    [InlineData("UTC", "Etc/UTC")]
    [InlineData("Europe/Paris", "Europe/Paris")]
    [InlineData("India Standard Time", "Asia/Kolkata")]
    [InlineData("Asia/Calcutta", "Asia/Kolkata")]
    [InlineData("FLE Standard Time", "Europe/Kyiv")]
    [InlineData("Customized Time Zone", "UTC")]
    [InlineData(null, "UTC")]
    public void Windows_zone_ids_become_iana(string? windows, string iana) => Assert.Equal(iana, ExchangeValues.ToIanaTimeZone(windows));

    /// <summary>Every Windows id a zone of this system maps to becomes a zone of the system's (canonical) list, or an Etc zone.</summary>
    [Fact]
    public void Every_windows_id_becomes_a_canonical_iana_zone()
    {
        var canonical = TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id).ToHashSet();
        var windowsIds = canonical.Select(id => TimeZoneInfo.TryConvertIanaIdToWindowsId(id, out var w) ? w : null).OfType<string>().Distinct();
        Assert.All(windowsIds, w => Assert.True(canonical.Contains(ExchangeValues.ToIanaTimeZone(w)) || ExchangeValues.ToIanaTimeZone(w).StartsWith("Etc/"),
            $"{w} -> {ExchangeValues.ToIanaTimeZone(w)}"));
    }

    [Theory]
    [InlineData("Normal", EventSensitivity.Normal)]
    [InlineData("Personal", EventSensitivity.Personal)]
    [InlineData("Private", EventSensitivity.Private)]
    [InlineData("Confidential", EventSensitivity.Confidential)]
    [InlineData(null, EventSensitivity.Normal)]
    public void Sensitivity_maps(string? sensitivity, EventSensitivity expected) => Assert.Equal(expected, ExchangeValues.ToSensitivity(sensitivity));

    [Theory]
    [InlineData("Accept", AttendeeResponse.Accept)]
    [InlineData("Organizer", AttendeeResponse.Accept)]
    [InlineData("Tentative", AttendeeResponse.Tentative)]
    [InlineData("Decline", AttendeeResponse.Decline)]
    [InlineData("NoResponseReceived", AttendeeResponse.NeedsAction)]
    [InlineData("Unknown", AttendeeResponse.NeedsAction)]
    [InlineData(null, AttendeeResponse.NeedsAction)]
    public void Response_types_become_rsvp(string? responseType, AttendeeResponse expected) =>
        Assert.Equal(expected, ExchangeValues.ToAttendeeResponse(responseType));

    [Theory]
    [InlineData("Free", FreeBusy.Free)]
    [InlineData("Tentative", FreeBusy.Tentative)]
    [InlineData("Busy", FreeBusy.Busy)]
    [InlineData("OOF", FreeBusy.OutOfOffice)]
    [InlineData("WorkingElsewhere", FreeBusy.WorkingElsewhere)]
    [InlineData("NoData", FreeBusy.Busy)]
    public void Legacy_free_busy_maps(string status, FreeBusy expected) => Assert.Equal(expected, ExchangeValues.ToFreeBusy(status));
}
