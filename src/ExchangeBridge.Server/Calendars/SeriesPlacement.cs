using System.Globalization;
using ExchangeBridge.Core.Exchange;

namespace ExchangeBridge.Server.Calendars;

/// <summary>
/// Where a series master's occurrences fall: its recurrence read from its rule at its first start, its length, and for an
/// all-day series the shift from its dates (walked in UTC) to the instant its first day starts at. Immutable, so one
/// placement may serve many requests at once (<see cref="SeriesCache"/>).
/// </summary>
internal sealed class SeriesPlacement
{
    /// <summary>An all-day series' dates are read in UTC and moved by its first day's offset, so the zone's summer time can move
    /// an occurrence's instant by an hour against the id its exception was stored under: match those within half a day.</summary>
    private const long AllDayMatchSeconds = 12 * 3600;

    /// <summary>
    /// A series that ends within this many occurrences keeps every start once placed (<see cref="PlaceAll"/>): Outlook
    /// allows 999 to a numbered series, 8 KB of starts at most, which a request then finds by a binary search instead of a
    /// walk of the rule through the zone.
    /// </summary>
    private const int MaxPlacedStarts = 1000;

    private static readonly long EarliestPlaceableMs = DateTimeOffset.MinValue.AddDays(3).ToUnixTimeMilliseconds();

    private readonly ExchangeRecurrence _recurrence;
    private readonly DateTimeOffset _seriesStart;
    private readonly TimeZoneInfo _zone;

    /// <summary>Every occurrence's start in ms, in order, when <see cref="PlaceAll"/> placed them; null: walk the rule.</summary>
    private readonly long[]? _allStarts;

    private SeriesPlacement(ExchangeRecurrence recurrence, DateTimeOffset seriesStart, TimeZoneInfo zone, bool allDay, long offsetMs, long durationMs,
        long[]? allStarts)
    {
        _recurrence = recurrence;
        _seriesStart = seriesStart;
        _zone = zone;
        AllDay = allDay;
        OffsetMs = offsetMs;
        DurationMs = durationMs;
        _allStarts = allStarts;
    }

    public bool AllDay { get; }

    /// <summary>For an all-day series, from a date's UTC midnight to the instant the series' days start at.</summary>
    public long OffsetMs { get; }

    public long DurationMs { get; }

    /// <summary>The placement of a master starting at <paramref name="masterStartMs"/> with the payload's start and end
    /// times; null for a rule the import does not write (none is), which is then answered as its stored first occurrence.</summary>
    public static SeriesPlacement? Of(long masterStartMs, string? startDate, string? startTimestamp, string? timeZone, string? endDate,
        string? endTimestamp, string rule)
    {
        var allDay = startDate is not null;
        DateTimeOffset seriesStart;
        TimeZoneInfo zone;
        long offsetMs, durationMs;
        if (allDay)
        {
            // The payload keeps an all-day series' dates, not its zone: walk the dates in UTC and move each to the instant the
            // series' first day starts at.
            var firstDay = DateOnly.ParseExact(startDate!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            seriesStart = new DateTimeOffset(firstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            zone = TimeZoneInfo.Utc;
            offsetMs = masterStartMs - seriesStart.ToUnixTimeMilliseconds();
            var lastDay = DateOnly.ParseExact(endDate ?? startDate!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            durationMs = (lastDay.DayNumber - firstDay.DayNumber) * 86_400_000L;
        }
        else
        {
            seriesStart = DateTimeOffset.FromUnixTimeSeconds(long.Parse(startTimestamp!, CultureInfo.InvariantCulture));
            zone = timeZone is { } name && TimeZoneInfo.TryFindSystemTimeZoneById(name, out var found) ? found : TimeZoneInfo.Utc;
            offsetMs = 0;
            durationMs = long.Parse(endTimestamp!, CultureInfo.InvariantCulture) * 1000 - seriesStart.ToUnixTimeMilliseconds();
        }
        try
        {
            return new SeriesPlacement(StoredRecurrence.Parse(rule, seriesStart, zone, allDay), seriesStart, zone, allDay, offsetMs, durationMs, null);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// The same placement with every start placed, for one kept across requests: a series with no end, or more than
    /// <see cref="MaxPlacedStarts"/> occurrences, stays walked from each range.
    /// </summary>
    public SeriesPlacement PlaceAll()
    {
        if (_allStarts is not null || _recurrence.Range is ExchangeRecurrenceRange.NoEnd) return this;
        var starts = new List<long>();
        foreach (var start in StoredRecurrence.OccurrenceStarts(_recurrence, _seriesStart, _zone, AllDay))
        {
            if (starts.Count == MaxPlacedStarts) return this;
            starts.Add(start.ToUnixTimeMilliseconds() + OffsetMs);
        }
        return new SeriesPlacement(_recurrence, _seriesStart, _zone, AllDay, OffsetMs, DurationMs, [.. starts]);
    }

    /// <summary>Adds to <paramref name="starts"/> the starts of the occurrences touching [startMs, endMs) that no stored row replaces, in order.</summary>
    public void StartsIn(long startMs, long endMs, IReadOnlyCollection<long> replacedStarts, List<long> starts)
    {
        if (_allStarts is { } all)
        {
            // The first occurrence ending after startMs: the starts are in order, and every occurrence is as long.
            var first = Array.BinarySearch(all, startMs - DurationMs + 1);
            for (var i = first < 0 ? ~first : first; i < all.Length && all[i] < endMs; i++)
                AddUnlessReplaced(all[i], replacedStarts, starts);
            return;
        }
        foreach (var start in StoredRecurrence.OccurrenceStarts(_recurrence, _seriesStart, _zone, AllDay, FirstDateToPlace(startMs - DurationMs - OffsetMs)))
        {
            var occurrenceStartMs = start.ToUnixTimeMilliseconds() + OffsetMs;
            if (occurrenceStartMs >= endMs) return;
            if (occurrenceStartMs + DurationMs <= startMs) continue;
            AddUnlessReplaced(occurrenceStartMs, replacedStarts, starts);
        }
    }

    private void AddUnlessReplaced(long occurrenceStartMs, IReadOnlyCollection<long> replacedStarts, List<long> starts)
    {
        if (replacedStarts.Count == 0 || !IsReplaced(replacedStarts, occurrenceStartMs / 1000)) starts.Add(occurrenceStartMs);
    }

    private bool IsReplaced(IReadOnlyCollection<long> replacedStarts, long seconds)
    {
        foreach (var replaced in replacedStarts)
            if (AllDay ? Math.Abs(replaced - seconds) < AllDayMatchSeconds : replaced == seconds) return true;
        return false;
    }

    /// <summary>
    /// The earliest date an occurrence ending after <paramref name="earliestStartMs"/> can fall on, in any zone (a day's
    /// margin either way), so the walk places no date long before the range.
    /// </summary>
    private static DateOnly FirstDateToPlace(long earliestStartMs) =>
        earliestStartMs <= EarliestPlaceableMs ? default
        : DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(earliestStartMs).UtcDateTime).AddDays(-2);
}
