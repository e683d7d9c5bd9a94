namespace ExchangeBridge.Core.Exchange;

/// <summary>The pattern half of an EWS <c>t:Recurrence</c> element, as read from the wire.</summary>
public abstract record EwsRecurrencePattern
{
    public sealed record Daily(int Interval) : EwsRecurrencePattern;

    /// <summary><paramref name="DaysOfWeek"/> holds EWS day names ("Monday", also "Weekday", "WeekendDay", "Day").</summary>
    public sealed record Weekly(int Interval, IReadOnlyList<string> DaysOfWeek, string? FirstDayOfWeek = null) : EwsRecurrencePattern;

    public sealed record AbsoluteMonthly(int Interval, int DayOfMonth) : EwsRecurrencePattern;

    /// <summary><paramref name="DayOfWeekIndex"/> is First, Second, Third, Fourth or Last.</summary>
    public sealed record RelativeMonthly(int Interval, string DaysOfWeek, string DayOfWeekIndex) : EwsRecurrencePattern;

    /// <summary><paramref name="Month"/> is the English month name, as EWS writes it.</summary>
    public sealed record AbsoluteYearly(int DayOfMonth, string Month) : EwsRecurrencePattern;

    public sealed record RelativeYearly(string DaysOfWeek, string DayOfWeekIndex, string Month) : EwsRecurrencePattern;
}

/// <summary>The range half of an EWS <c>t:Recurrence</c> element. Dates are the calendar dates EWS sends (xs:date).</summary>
public abstract record EwsRecurrenceRange(DateOnly StartDate)
{
    public sealed record NoEnd(DateOnly StartDate) : EwsRecurrenceRange(StartDate);

    public sealed record EndDate(DateOnly StartDate, DateOnly LastDate) : EwsRecurrenceRange(StartDate);

    public sealed record Numbered(DateOnly StartDate, int NumberOfOccurrences) : EwsRecurrenceRange(StartDate);
}

public sealed record EwsRecurrence(EwsRecurrencePattern Pattern, EwsRecurrenceRange Range);
