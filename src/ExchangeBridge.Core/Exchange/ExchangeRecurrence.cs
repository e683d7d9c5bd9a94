namespace ExchangeBridge.Core.Exchange;

/// <summary>
/// The pattern half of an Exchange recurrence, in the vocabulary of EWS's <c>t:Recurrence</c> element; the Graph connector maps
/// a <c>patternedRecurrence</c> onto the same model, so both protocols feed one expansion.
/// </summary>
public abstract record ExchangeRecurrencePattern
{
    public sealed record Daily(int Interval) : ExchangeRecurrencePattern;

    /// <summary><paramref name="DaysOfWeek"/> holds EWS day names ("Monday", also "Weekday", "WeekendDay", "Day").</summary>
    public sealed record Weekly(int Interval, IReadOnlyList<string> DaysOfWeek, string? FirstDayOfWeek = null) : ExchangeRecurrencePattern;

    public sealed record AbsoluteMonthly(int Interval, int DayOfMonth) : ExchangeRecurrencePattern;

    /// <summary><paramref name="DayOfWeekIndex"/> is First, Second, Third, Fourth or Last.</summary>
    public sealed record RelativeMonthly(int Interval, string DaysOfWeek, string DayOfWeekIndex) : ExchangeRecurrencePattern;

    /// <summary><paramref name="Month"/> is the English month name, as EWS writes it.</summary>
    public sealed record AbsoluteYearly(int DayOfMonth, string Month) : ExchangeRecurrencePattern;

    public sealed record RelativeYearly(string DaysOfWeek, string DayOfWeekIndex, string Month) : ExchangeRecurrencePattern;
}

/// <summary>The range half of an Exchange recurrence. Dates are calendar dates (EWS xs:date, Graph's Edm.Date).</summary>
public abstract record ExchangeRecurrenceRange(DateOnly StartDate)
{
    public sealed record NoEnd(DateOnly StartDate) : ExchangeRecurrenceRange(StartDate);

    public sealed record EndDate(DateOnly StartDate, DateOnly LastDate) : ExchangeRecurrenceRange(StartDate);

    public sealed record Numbered(DateOnly StartDate, int NumberOfOccurrences) : ExchangeRecurrenceRange(StartDate);
}

public sealed record ExchangeRecurrence(ExchangeRecurrencePattern Pattern, ExchangeRecurrenceRange Range);
