namespace ExchangeBridge.Core.Exchange;

/// <summary>
/// The dates an EWS recurrence falls on, as Outlook expands it: the pattern walked from the range's start date, a day the
/// month lacks moved to its last day, until the range's count or end date. The read side needs only where a bounded
/// series ends (a count has no date of its own), so this is kept to dates; the RRULE from <see cref="RecurrenceRules"/>
/// describes the same dates.
/// </summary>
public static class SeriesOccurrences
{
    /// <summary>Outlook allows at most 999 occurrences to a numbered series; a pattern that yields nothing stops here.</summary>
    private const int MaxPeriods = 100_000;

    /// <summary>The start of the series' last occurrence, or null when it has no end.</summary>
    public static DateTimeOffset? LastStart(ExchangeRecurrence recurrence, DateTimeOffset seriesStart, TimeZoneInfo zone, bool isAllDay)
    {
        DateOnly? last = null;
        switch (recurrence.Range)
        {
            case ExchangeRecurrenceRange.Numbered n:
                last = Dates(recurrence.Pattern, n.StartDate).Take(Math.Max(1, n.NumberOfOccurrences)).LastOrDefault();
                break;
            case ExchangeRecurrenceRange.EndDate e:
                last = Dates(recurrence.Pattern, e.StartDate).TakeWhile(d => d <= e.LastDate).Select(d => (DateOnly?)d).LastOrDefault();
                break;
        }
        return last is { } date ? RecurrenceRules.OccurrenceStart(date, seriesStart, zone, isAllDay) : null;
    }

    /// <summary>Every date of the pattern on or after <paramref name="startDate"/>, in order.</summary>
    public static IEnumerable<DateOnly> Dates(ExchangeRecurrencePattern pattern, DateOnly startDate) =>
        Periods(pattern, startDate, 0).Take(MaxPeriods).SelectMany(dates => dates).Where(d => d >= startDate);

    /// <summary>
    /// <see cref="Dates"/> without walking the periods (days, weeks, months, years of the pattern) that end on or before
    /// <paramref name="from"/>: how many dates those held, so a count still ends where it does, and the dates from the
    /// first period after them, which may still begin before <paramref name="from"/>. A read of a week of a long series
    /// then costs what the week costs, not what the series' past does. Every period after the first holds the same number
    /// of dates (the same weekdays of each week, one date of each day, month or year), so the skipped ones are counted
    /// without being walked.
    /// </summary>
    public static (int Skipped, IEnumerable<DateOnly> Dates) DatesFrom(ExchangeRecurrencePattern pattern, DateOnly startDate, DateOnly from)
    {
        var skippedPeriods = Math.Min(PeriodsEndingBy(pattern, startDate, from), MaxPeriods);
        if (skippedPeriods == 0) return (0, Dates(pattern, startDate));
        var inFirst = Periods(pattern, startDate, 0).First().Count(d => d >= startDate);
        var inEach = pattern is ExchangeRecurrencePattern.Weekly w ? System.Numerics.BitOperations.PopCount((uint)DayBits(w)) : 1;
        var skipped = inFirst + (skippedPeriods - 1) * inEach;
        return (skipped, Periods(pattern, startDate, skippedPeriods).Take(MaxPeriods - skippedPeriods).SelectMany(dates => dates));
    }

    /// <summary>How many of the pattern's periods from <paramref name="start"/> end on or before <paramref name="from"/>.</summary>
    private static int PeriodsEndingBy(ExchangeRecurrencePattern pattern, DateOnly start, DateOnly from)
    {
        // A period ends where the next begins: whole periods from the first's beginning up to from.
        var periods = pattern switch
        {
            ExchangeRecurrencePattern.Daily d => (from.DayNumber - start.DayNumber) / Math.Max(1, d.Interval),
            ExchangeRecurrencePattern.Weekly w => (from.DayNumber - FirstDayOfWeek(w, start).DayNumber) / (7 * Math.Max(1, w.Interval)),
            ExchangeRecurrencePattern.AbsoluteMonthly m => MonthsBetween(start, from) / Math.Max(1, m.Interval),
            ExchangeRecurrencePattern.RelativeMonthly m => MonthsBetween(start, from) / Math.Max(1, m.Interval),
            ExchangeRecurrencePattern.AbsoluteYearly y => YearsBetween(new DateOnly(start.Year, MonthOf(y.Month), 1), from),
            ExchangeRecurrencePattern.RelativeYearly y => YearsBetween(new DateOnly(start.Year, MonthOf(y.Month), 1), from),
            _ => throw new ArgumentOutOfRangeException(nameof(pattern), pattern, "unknown recurrence pattern"),
        };
        return Math.Max(0, periods);
    }

    private static int MonthsBetween(DateOnly start, DateOnly from) => (from.Year * 12 + from.Month) - (start.Year * 12 + start.Month);

    private static int YearsBetween(DateOnly firstPeriod, DateOnly from) =>
        from.Year - firstPeriod.Year - (from < new DateOnly(from.Year, firstPeriod.Month, 1) ? 1 : 0);

    private static DateOnly FirstDayOfWeek(ExchangeRecurrencePattern.Weekly w, DateOnly start)
    {
        var firstDay = w.FirstDayOfWeek is { } name ? Enum.Parse<DayOfWeek>(name) : DayOfWeek.Sunday;
        return start.AddDays(-(((int)start.DayOfWeek - (int)firstDay + 7) % 7));
    }

    /// <summary>The pattern's periods from <paramref name="start"/>'s, the first <paramref name="skip"/> left out.</summary>
    private static IEnumerable<IEnumerable<DateOnly>> Periods(ExchangeRecurrencePattern pattern, DateOnly start, int skip)
    {
        switch (pattern)
        {
            case ExchangeRecurrencePattern.Daily d:
                for (var day = start.AddDays(skip * Math.Max(1, d.Interval)); ; day = day.AddDays(Math.Max(1, d.Interval))) yield return [day];
            case ExchangeRecurrencePattern.Weekly w:
                var dayBits = DayBits(w);
                for (var week = FirstDayOfWeek(w, start).AddDays(skip * 7 * Math.Max(1, w.Interval)); ; week = week.AddDays(7 * Math.Max(1, w.Interval)))
                    yield return DaysIn(week, dayBits);
            case ExchangeRecurrencePattern.AbsoluteMonthly m:
                for (var month = FirstOfMonth(start).AddMonths(skip * Math.Max(1, m.Interval)); ; month = month.AddMonths(Math.Max(1, m.Interval)))
                    yield return [DayOrLast(month, m.DayOfMonth)];
            case ExchangeRecurrencePattern.RelativeMonthly m:
                for (var month = FirstOfMonth(start).AddMonths(skip * Math.Max(1, m.Interval)); ; month = month.AddMonths(Math.Max(1, m.Interval)))
                    yield return [Nth(month, m.DaysOfWeek, m.DayOfWeekIndex)];
            case ExchangeRecurrencePattern.AbsoluteYearly y:
                for (var year = new DateOnly(start.Year, MonthOf(y.Month), 1).AddYears(skip); ; year = year.AddYears(1)) yield return [DayOrLast(year, y.DayOfMonth)];
            case ExchangeRecurrencePattern.RelativeYearly y:
                for (var year = new DateOnly(start.Year, MonthOf(y.Month), 1).AddYears(skip); ; year = year.AddYears(1)) yield return [Nth(year, y.DaysOfWeek, y.DayOfWeekIndex)];
            default:
                throw new ArgumentOutOfRangeException(nameof(pattern), pattern, "unknown recurrence pattern");
        }
    }

    /// <summary>
    /// A weekly pattern's days as bits (1 &lt;&lt; DayOfWeek), each once: what each day of a week is tested against, and how
    /// many dates a week holds (free/busy walks thousands of weekly series a request, a few dates each: a set and LINQ per
    /// walk cost more than its dates).
    /// </summary>
    private static int DayBits(ExchangeRecurrencePattern.Weekly w)
    {
        var bits = 0;
        foreach (var name in w.DaysOfWeek)
            foreach (var day in DaysOf(name)) bits |= 1 << (int)day;
        return bits;
    }

    /// <summary>The days of the week from <paramref name="weekStart"/> that <paramref name="dayBits"/> holds, in order.</summary>
    private static List<DateOnly> DaysIn(DateOnly weekStart, int dayBits)
    {
        var days = new List<DateOnly>(7);
        for (var i = 0; i < 7; i++)
        {
            var day = weekStart.AddDays(i);
            if ((dayBits & (1 << (int)day.DayOfWeek)) != 0) days.Add(day);
        }
        return days;
    }

    private static DateOnly FirstOfMonth(DateOnly date) => new(date.Year, date.Month, 1);

    private static DateOnly DayOrLast(DateOnly firstOfMonth, int day) =>
        firstOfMonth.AddDays(Math.Clamp(day, 1, DateTime.DaysInMonth(firstOfMonth.Year, firstOfMonth.Month)) - 1);

    /// <summary>The First..Fourth or Last day of the month among <paramref name="daysOfWeek"/> (a day name or Day/Weekday/WeekendDay).</summary>
    private static DateOnly Nth(DateOnly firstOfMonth, string daysOfWeek, string index)
    {
        var wanted = DaysOf(daysOfWeek).ToHashSet();
        var matching = Enumerable.Range(0, DateTime.DaysInMonth(firstOfMonth.Year, firstOfMonth.Month)).Select(firstOfMonth.AddDays)
            .Where(day => wanted.Contains(day.DayOfWeek)).ToList();
        return index switch
        {
            "First" => matching[0], "Second" => matching[1], "Third" => matching[2], "Fourth" => matching[3], "Last" => matching[^1],
            _ => throw new ArgumentOutOfRangeException(nameof(index), index, "unknown DayOfWeekIndex"),
        };
    }

    private static IEnumerable<DayOfWeek> DaysOf(string ewsDay) => ewsDay switch
    {
        "Day" => Enum.GetValues<DayOfWeek>(),
        "Weekday" => [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday],
        "WeekendDay" => [DayOfWeek.Saturday, DayOfWeek.Sunday],
        _ => [Enum.Parse<DayOfWeek>(ewsDay)],
    };

    private static int MonthOf(string month) =>
        DateTime.ParseExact(month, "MMMM", System.Globalization.CultureInfo.InvariantCulture).Month;
}
