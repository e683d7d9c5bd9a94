using System.Globalization;

namespace ExchangeBridge.Core.Exchange;

/// <summary>
/// Reads back an RRULE that <see cref="RecurrenceRules.ToRRule"/> wrote, as the Exchange recurrence it came from, so a
/// stored series is expanded by <see cref="SeriesOccurrences"/> (Outlook's own walk, which also fixed where the series
/// ends at import) and not by a second RFC 5545 expander that could place a "day 31" or a "last weekday" elsewhere. Only
/// the forms ToRRule writes are understood; anything else is refused rather than guessed.
/// </summary>
public static class StoredRecurrence
{
    private static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] DayCodes = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];

    /// <summary>The recurrence of a series that starts at <paramref name="seriesStart"/> in <paramref name="zone"/>.</summary>
    /// <exception cref="FormatException">the rule is not one ToRRule writes.</exception>
    public static ExchangeRecurrence Parse(string rrule, DateTimeOffset seriesStart, TimeZoneInfo zone, bool isAllDay)
    {
        var parts = rrule.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length == 2 ? p[1] : "", StringComparer.Ordinal);
        var interval = parts.TryGetValue("INTERVAL", out var i) ? Number(i) : 1;
        ExchangeRecurrencePattern pattern = Value(parts, "FREQ") switch
        {
            "DAILY" => new ExchangeRecurrencePattern.Daily(interval),
            "WEEKLY" => new ExchangeRecurrencePattern.Weekly(interval, Value(parts, "BYDAY").Split(',').Select(DayName).ToList(),
                parts.TryGetValue("WKST", out var first) ? DayName(first) : null),
            "MONTHLY" when parts.ContainsKey("BYMONTHDAY") => new ExchangeRecurrencePattern.AbsoluteMonthly(interval, MonthDay(parts)),
            "MONTHLY" => Relative(parts, (days, index) => new ExchangeRecurrencePattern.RelativeMonthly(interval, days, index)),
            "YEARLY" when parts.ContainsKey("BYMONTHDAY") => new ExchangeRecurrencePattern.AbsoluteYearly(MonthDay(parts), MonthName(parts)),
            "YEARLY" => Relative(parts, (days, index) => new ExchangeRecurrencePattern.RelativeYearly(days, index, MonthName(parts))),
            var other => throw new FormatException($"FREQ={other} is not a frequency Exchange has"),
        };
        var startDate = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(seriesStart, zone).DateTime);
        ExchangeRecurrenceRange range = parts.TryGetValue("COUNT", out var count)
            ? new ExchangeRecurrenceRange.Numbered(startDate, Number(count))
            : parts.TryGetValue("UNTIL", out var until)
                ? new ExchangeRecurrenceRange.EndDate(startDate, UntilDate(until, zone, isAllDay))
                : new ExchangeRecurrenceRange.NoEnd(startDate);
        return new ExchangeRecurrence(pattern, range);
    }

    /// <summary>
    /// The starts of a series' occurrences from its first, in order, as Outlook places them: the pattern's dates up to the
    /// count or end date, each at the series' time of day in its zone. Dates before <paramref name="from"/> are counted
    /// (a count still ends where it does) but not placed, and the whole periods of the pattern before it are counted
    /// without being walked (<see cref="SeriesOccurrences.DatesFrom"/>): a week of a long series costs what the week does.
    /// </summary>
    public static IEnumerable<DateTimeOffset> OccurrenceStarts(ExchangeRecurrence recurrence, DateTimeOffset seriesStart, TimeZoneInfo zone,
        bool isAllDay, DateOnly from = default)
    {
        // One loop rather than a chain of LINQ operators: free/busy walks a few dates of thousands of series per request.
        var (skipped, dates) = SeriesOccurrences.DatesFrom(recurrence.Pattern, recurrence.Range.StartDate, from);
        var left = recurrence.Range is ExchangeRecurrenceRange.Numbered n ? Math.Max(0, Math.Max(1, n.NumberOfOccurrences) - skipped) : int.MaxValue;
        DateOnly? lastDate = recurrence.Range is ExchangeRecurrenceRange.EndDate e ? e.LastDate : null;
        foreach (var date in dates)
        {
            if (left-- == 0 || date > lastDate) yield break;
            if (date >= from) yield return RecurrenceRules.OccurrenceStart(date, seriesStart, zone, isAllDay);
        }
    }

    /// <summary>The UNTIL's calendar date: a DATE for an all-day series, else the last occurrence's UTC start read in the zone.</summary>
    private static DateOnly UntilDate(string until, TimeZoneInfo zone, bool isAllDay) =>
        isAllDay || until.Length == 8
            ? DateOnly.ParseExact(until[..8], "yyyyMMdd", CultureInfo.InvariantCulture)
            : DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(
                DateTimeOffset.ParseExact(until, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal), zone).DateTime);

    /// <summary>BYMONTHDAY=d is day d; -1 (the last day) and the set with BYSETPOS=-1 are the latest day asked for.</summary>
    private static int MonthDay(Dictionary<string, string> parts)
    {
        var days = Value(parts, "BYMONTHDAY").Split(',').Select(d => int.Parse(d, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)).ToList();
        return days is [-1] ? 31 : days.Max();
    }

    /// <summary>BYDAY=2TU (one day, its position before it) or BYDAY=MO,…;BYSETPOS=n (a group of days).</summary>
    private static ExchangeRecurrencePattern Relative(Dictionary<string, string> parts, Func<string, string, ExchangeRecurrencePattern> make)
    {
        var byDay = Value(parts, "BYDAY");
        if (parts.TryGetValue("BYSETPOS", out var position))
        {
            var codes = byDay.Split(',').ToHashSet(StringComparer.Ordinal);
            var group = codes.Count switch
            {
                7 => "Day",
                5 when !codes.Contains("SA") && !codes.Contains("SU") => "Weekday",
                2 when codes.SetEquals(["SA", "SU"]) => "WeekendDay",
                _ => throw new FormatException($"BYDAY={byDay} with BYSETPOS is not a day group Exchange has"),
            };
            return make(group, IndexName(position));
        }
        return make(DayName(byDay[^2..]), IndexName(byDay[..^2]));
    }

    private static string IndexName(string position) => position switch
    {
        "1" => "First", "2" => "Second", "3" => "Third", "4" => "Fourth", "-1" => "Last",
        _ => throw new FormatException($"position {position} is not a DayOfWeekIndex Exchange has"),
    };

    private static string DayName(string code) =>
        Array.IndexOf(DayCodes, code) is var at and >= 0 ? DayNames[at] : throw new FormatException($"{code} is not a day of the week");

    private static string MonthName(Dictionary<string, string> parts) =>
        CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(Number(Value(parts, "BYMONTH")));

    private static string Value(Dictionary<string, string> parts, string name) =>
        parts.TryGetValue(name, out var value) ? value : throw new FormatException($"the rule has no {name}");

    private static int Number(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
}
