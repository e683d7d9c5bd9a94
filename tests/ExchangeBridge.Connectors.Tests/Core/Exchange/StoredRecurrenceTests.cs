using ExchangeBridge.Core.Exchange;
using Pattern = ExchangeBridge.Core.Exchange.ExchangeRecurrencePattern;
using Range = ExchangeBridge.Core.Exchange.ExchangeRecurrenceRange;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>
/// A stored RRULE read back is the Exchange recurrence it was written from: expanded, it gives the same occurrences, at the
/// same instants, as the recurrence the connector read. That is what lets the read side expand series Outlook's way
/// without keeping a second copy of the pattern.
/// </summary>
public class StoredRecurrenceTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly DateOnly January31 = new(2024, 1, 31);
    private static readonly DateTimeOffset SeriesStart = new(2024, 1, 31, 8, 0, 0, TimeSpan.Zero); // 09:00 in Berlin

    public static TheoryData<Pattern> Patterns()
    {
        var patterns = new TheoryData<Pattern>();
        foreach (var row in RecurrenceRulesTests.Patterns) patterns.Add((Pattern)row[0]);
        patterns.Add(new Pattern.AbsoluteMonthly(1, 31));
        patterns.Add(new Pattern.AbsoluteMonthly(1, 30));
        patterns.Add(new Pattern.AbsoluteMonthly(2, 29));
        patterns.Add(new Pattern.AbsoluteYearly(29, "February"));
        patterns.Add(new Pattern.AbsoluteYearly(31, "April"));
        patterns.Add(new Pattern.RelativeYearly("WeekendDay", "Last", "March"));
        return patterns;
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void A_rule_read_back_expands_to_the_occurrences_of_the_recurrence_it_was_written_from(Pattern pattern)
    {
        foreach (Range range in new Range[] { new Range.NoEnd(January31), new Range.Numbered(January31, 17), new Range.EndDate(January31, new DateOnly(2026, 6, 30)) })
        foreach (var allDay in new[] { false, true })
        {
            var start = allDay ? new DateTimeOffset(2024, 1, 30, 23, 0, 0, TimeSpan.Zero) : SeriesStart;
            var written = new ExchangeRecurrence(pattern, range);
            var rule = RecurrenceRules.ToRRule(written, start, Berlin, allDay);
            var read = StoredRecurrence.Parse(rule, start, Berlin, allDay);
            Assert.Equal(
                StoredRecurrence.OccurrenceStarts(written, start, Berlin, allDay).Take(200),
                StoredRecurrence.OccurrenceStarts(read, start, Berlin, allDay).Take(200));
        }
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void A_walk_from_a_later_date_gives_the_occurrences_the_whole_walk_has_from_there(Pattern pattern)
    {
        // Counted ranges end at the same occurrence whether or not the periods before the date were walked; dates on both
        // sides of each period boundary, in the first period, past the end and before the start.
        foreach (Range range in new Range[] { new Range.NoEnd(January31), new Range.Numbered(January31, 17), new Range.Numbered(January31, 1),
                     new Range.EndDate(January31, new DateOnly(2026, 6, 30)) })
        foreach (var allDay in new[] { false, true })
        {
            var start = allDay ? new DateTimeOffset(2024, 1, 30, 23, 0, 0, TimeSpan.Zero) : SeriesStart;
            var recurrence = new ExchangeRecurrence(pattern, range);
            var whole = StoredRecurrence.OccurrenceStarts(recurrence, start, Berlin, allDay).Take(2000).ToList(); // past the last date tried
            for (var from = new DateOnly(2023, 12, 1); from < new DateOnly(2027, 3, 1); from = from.AddDays(from.Year == 2024 ? 1 : 11))
            {
                var fromDate = from;
                Assert.Equal(
                    whole.Where(s => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(s, Berlin).DateTime) >= fromDate).Take(20),
                    StoredRecurrence.OccurrenceStarts(recurrence, start, Berlin, allDay, from).Take(20));
            }
        }
    }

    [Fact]
    public void Day_31_lands_on_the_last_day_of_shorter_months_at_the_series_time_across_summer_time()
    {
        var rule = RecurrenceRules.ToRRule(new ExchangeRecurrence(new Pattern.AbsoluteMonthly(1, 31), new Range.Numbered(January31, 4)),
            SeriesStart, Berlin, false);
        var starts = StoredRecurrence.OccurrenceStarts(StoredRecurrence.Parse(rule, SeriesStart, Berlin, false), SeriesStart, Berlin, false);
        Assert.Equal(
            new DateTimeOffset[] { SeriesStart, new(2024, 2, 29, 8, 0, 0, TimeSpan.Zero), new(2024, 3, 31, 7, 0, 0, TimeSpan.Zero), new(2024, 4, 30, 7, 0, 0, TimeSpan.Zero) },
            starts);
    }

    [Theory]
    [InlineData("FREQ=HOURLY;INTERVAL=1")]
    [InlineData("FREQ=MONTHLY;INTERVAL=1;BYDAY=MO,TU;BYSETPOS=2")]
    [InlineData("FREQ=WEEKLY;INTERVAL=1;BYDAY=XX")]
    public void A_rule_exchange_never_writes_is_refused(string rule) =>
        Assert.Throws<FormatException>(() => StoredRecurrence.Parse(rule, SeriesStart, Berlin, false));
}
