using System.Globalization;
using System.Text;

namespace ExchangeBridge.Core.Exchange;

/// <summary>Translates EWS recurrence patterns into RFC 5545 RRULE values (without the "RRULE:" prefix).</summary>
public static class RecurrenceRules
{
    private static readonly string[] AllDays = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
    private static readonly string[] Weekdays = ["MO", "TU", "WE", "TH", "FR"];
    private static readonly string[] WeekendDays = ["SU", "SA"];

    /// <summary>
    /// The RRULE for <paramref name="recurrence"/>. An end date becomes UNTIL: a DATE for all-day series, otherwise the
    /// UTC instant of the last possible occurrence (series start time on that date in <paramref name="zone"/>), since
    /// RFC 5545 requires UNTIL in UTC when DTSTART carries a zone.
    /// </summary>
    public static string ToRRule(ExchangeRecurrence recurrence, DateTimeOffset seriesStart, TimeZoneInfo zone, bool isAllDay)
    {
        var rule = new StringBuilder();
        switch (recurrence.Pattern)
        {
            case ExchangeRecurrencePattern.Daily d:
                rule.Append("FREQ=DAILY;INTERVAL=").Append(Positive(d.Interval));
                break;
            case ExchangeRecurrencePattern.Weekly w:
                rule.Append("FREQ=WEEKLY;INTERVAL=").Append(Positive(w.Interval))
                    .Append(";BYDAY=").AppendJoin(',', w.DaysOfWeek.SelectMany(DayCodes).Distinct().OrderBy(WeekOrder));
                if (w.FirstDayOfWeek is { } first) rule.Append(";WKST=").Append(DayCode(first));
                break;
            case ExchangeRecurrencePattern.AbsoluteMonthly m:
                rule.Append("FREQ=MONTHLY;INTERVAL=").Append(Positive(m.Interval));
                AppendMonthDay(rule, m.DayOfMonth, shortest: 28, longest: 31);
                break;
            case ExchangeRecurrencePattern.RelativeMonthly m:
                rule.Append("FREQ=MONTHLY;INTERVAL=").Append(Positive(m.Interval));
                AppendRelativeDay(rule, m.DaysOfWeek, m.DayOfWeekIndex);
                break;
            case ExchangeRecurrencePattern.AbsoluteYearly y:
                rule.Append("FREQ=YEARLY;INTERVAL=1;BYMONTH=").Append(MonthNumber(y.Month));
                AppendMonthDay(rule, y.DayOfMonth, shortest: ShortestLength(MonthNumber(y.Month)), longest: LongestLength(MonthNumber(y.Month)));
                break;
            case ExchangeRecurrencePattern.RelativeYearly y:
                rule.Append("FREQ=YEARLY;INTERVAL=1;BYMONTH=").Append(MonthNumber(y.Month));
                AppendRelativeDay(rule, y.DaysOfWeek, y.DayOfWeekIndex);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(recurrence), recurrence.Pattern, "unknown recurrence pattern");
        }

        switch (recurrence.Range)
        {
            case ExchangeRecurrenceRange.Numbered n:
                rule.Append(";COUNT=").Append(n.NumberOfOccurrences);
                break;
            case ExchangeRecurrenceRange.EndDate e:
                rule.Append(";UNTIL=").Append(Until(e.LastDate, seriesStart, zone, isAllDay));
                break;
        }
        return rule.ToString();
    }

    private static string Until(DateOnly lastDate, DateTimeOffset seriesStart, TimeZoneInfo zone, bool isAllDay) =>
        isAllDay
            ? lastDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture)
            : OccurrenceStart(lastDate, seriesStart, zone, isAllDay: false).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// The UTC instant an occurrence on <paramref name="date"/> starts: the series' time of day in its zone (midnight for
    /// an all-day series). A start time inside a spring-forward gap happens an hour later that day.
    /// </summary>
    public static DateTimeOffset OccurrenceStart(DateOnly date, DateTimeOffset seriesStart, TimeZoneInfo zone, bool isAllDay)
    {
        var timeOfDay = isAllDay ? TimeOnly.MinValue : TimeOnly.FromTimeSpan(TimeZoneInfo.ConvertTime(seriesStart, zone).TimeOfDay);
        var local = date.ToDateTime(timeOfDay, DateTimeKind.Unspecified);
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(zone.IsInvalidTime(local) ? local.AddHours(1) : local, zone), TimeSpan.Zero);
    }

    /// <summary>
    /// Outlook puts a day the month lacks on the month's last day ("day 31" is Apr 30 and Feb 28); RFC 5545 would skip
    /// the month (BYMONTHDAY=31 has no April occurrence). So a day at or past the month's longest length is the last day
    /// (BYMONTHDAY=-1), and a day some months lack is the latest of the days from the shortest length up to it
    /// (BYMONTHDAY=28,29,30;BYSETPOS=-1: day 30, or the 29th or 28th in February). BYSETPOS picks within each month's
    /// set before COUNT counts, so a count still counts one occurrence per month.
    /// </summary>
    private static void AppendMonthDay(StringBuilder rule, int day, int shortest, int longest)
    {
        if (day <= shortest) rule.Append(";BYMONTHDAY=").Append(day);
        else if (day >= longest) rule.Append(";BYMONTHDAY=-1");
        else rule.Append(";BYMONTHDAY=").AppendJoin(',', Enumerable.Range(shortest, day - shortest + 1)).Append(";BYSETPOS=-1");
    }

    private static int ShortestLength(int month) => DateTime.DaysInMonth(2023, month);

    private static int LongestLength(int month) => DateTime.DaysInMonth(2024, month);

    /// <summary>"Weekday" on the second Tuesday is BYDAY=2TU; the day groups need BYSETPOS to pick the n-th of the set.</summary>
    private static void AppendRelativeDay(StringBuilder rule, string daysOfWeek, string dayOfWeekIndex)
    {
        var position = dayOfWeekIndex switch
        {
            "First" => 1, "Second" => 2, "Third" => 3, "Fourth" => 4, "Last" => -1,
            _ => throw new ArgumentOutOfRangeException(nameof(dayOfWeekIndex), dayOfWeekIndex, "unknown DayOfWeekIndex"),
        };
        var codes = DayCodes(daysOfWeek).ToList();
        if (codes.Count == 1) rule.Append(";BYDAY=").Append(position).Append(codes[0]);
        else rule.Append(";BYDAY=").AppendJoin(',', codes.OrderBy(WeekOrder)).Append(";BYSETPOS=").Append(position);
    }

    private static IEnumerable<string> DayCodes(string ewsDay) => ewsDay switch
    {
        "Day" => AllDays,
        "Weekday" => Weekdays,
        "WeekendDay" => WeekendDays,
        _ => [DayCode(ewsDay)],
    };

    private static string DayCode(string ewsDay) => ewsDay switch
    {
        "Sunday" => "SU", "Monday" => "MO", "Tuesday" => "TU", "Wednesday" => "WE",
        "Thursday" => "TH", "Friday" => "FR", "Saturday" => "SA",
        _ => throw new ArgumentOutOfRangeException(nameof(ewsDay), ewsDay, "unknown day of week"),
    };

    /// <summary>Monday-first, the order RRULEs are usually written in.</summary>
    private static int WeekOrder(string code) => (Array.IndexOf(AllDays, code) + 6) % 7;

    private static int MonthNumber(string month) =>
        DateTime.ParseExact(month, "MMMM", CultureInfo.InvariantCulture).Month;

    private static int Positive(int interval) => Math.Max(1, interval);
}
