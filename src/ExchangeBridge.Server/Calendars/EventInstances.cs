using System.Globalization;
using System.Text.Json;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Calendars;

/// <summary>
/// What the range reads need of a stored event, read without its attendees and texts: from its payload, or for free/busy
/// from the columns migration 0012 keeps of it.
/// </summary>
public sealed record StoredEventFacts(
    string EventId, TimeInfo StartTime, TimeInfo EndTime, string? Recurrence, string FreeBusyStatus, string Status, string? SelfRsvpStatus);

/// <summary>
/// One event as it falls in a range. A stored single, modified occurrence or deleted occurrence is its row as it is; an
/// occurrence of a series is its master's row at the occurrence's time, under the occurrence's id.
/// </summary>
/// <param name="IsOccurrence">true for an occurrence made from its series' recurrence, false for a stored row.</param>
public sealed record EventInstance(StoredEventRow Row, StoredEventFacts Facts, string EventId, TimeInfo StartTime, TimeInfo EndTime,
    long StartMs, long EndMs, bool IsOccurrence)
{
    /// <summary>The instance in the Open API's shape: the stored view, moved to the occurrence's time for an occurrence.</summary>
    public CalendarEvent View(CalendarEvent stored) => IsOccurrence
        ? stored with
        {
            EventId = EventId, StartTime = StartTime, EndTime = EndTime, Recurrence = null, IsException = false,
            RecurringEventId = stored.EventId,
        }
        : stored;
}

/// <summary>
/// Series expanded the way Exchange has them: the occurrences Outlook's walk of the recurrence gives
/// (<see cref="StoredRecurrence"/>), except those the import stored a modified or deleted occurrence for, plus those stored
/// rows where they now fall. An occurrence's id is the platform's "{uuid}_{original start in seconds}", the same id the
/// import gives the modified or deleted occurrence that replaces it.
/// </summary>
public static class EventInstances
{
    /// <summary>An all-day series' dates are read in UTC and moved by its first day's offset, so the zone's summer time can move
    /// an occurrence's instant by an hour against the id its exception was stored under: match those within half a day.</summary>
    private const long AllDayMatchSeconds = 12 * 3600;

    /// <summary>The instances touching [startMs, endMs), in start order; <paramref name="rows"/> from <see cref="EventRangeReads"/>.</summary>
    public static List<EventInstance> Expand(IReadOnlyList<StoredEventRow> rows, long startMs, long endMs) =>
        Expand(rows, startMs, endMs, PayloadFacts);

    /// <summary>As <see cref="Expand(IReadOnlyList{StoredEventRow}, long, long)"/>, each row's facts read by <paramref name="factsOf"/>.</summary>
    public static List<EventInstance> Expand(IReadOnlyList<StoredEventRow> rows, long startMs, long endMs, Func<StoredEventRow, StoredEventFacts> factsOf)
    {
        var instances = new List<EventInstance>();
        foreach (var (row, facts, replaced) in Read(rows, factsOf))
        {
            if (row.StartMs >= endMs || row.EndMs <= startMs) continue;
            if (row.SeriesItemId is null && facts.Recurrence is { } rule)
                instances.AddRange(Occurrences(row, facts, rule, startMs, endMs, replaced));
            else
                instances.Add(AsStored(row, facts));
        }
        instances.Sort((a, b) => a.StartMs != b.StartMs ? a.StartMs.CompareTo(b.StartMs) : string.CompareOrdinal(a.EventId, b.EventId));
        return instances;
    }

    /// <summary>
    /// The stored rows with at least one instance in [startMs, endMs), as stored (a series once), in <paramref name="rows"/>'
    /// order: a series only when one of its occurrences falls there, found without expanding the rest of it.
    /// </summary>
    public static IEnumerable<(StoredEventRow Row, StoredEventFacts Facts)> Touching(IReadOnlyList<StoredEventRow> rows, long startMs, long endMs)
    {
        foreach (var (row, facts, replaced) in Read(rows, PayloadFacts))
        {
            if (row.StartMs >= endMs || row.EndMs <= startMs) continue;
            if (row.SeriesItemId is null && facts.Recurrence is { } rule && !Occurrences(row, facts, rule, startMs, endMs, replaced).Any()) continue;
            yield return (row, facts);
        }
    }

    /// <summary>
    /// Each row once with its facts and, for a series master, the original starts its stored modified or deleted
    /// occurrences replace (by the series' item id).
    /// </summary>
    private static List<(StoredEventRow Row, StoredEventFacts Facts, IReadOnlyCollection<long> Replaced)> Read(IReadOnlyList<StoredEventRow> rows,
        Func<StoredEventRow, StoredEventFacts> factsOf)
    {
        var seen = new HashSet<long>();
        var distinct = new List<(StoredEventRow Row, StoredEventFacts Facts)>(rows.Count);
        foreach (var row in rows)
            if (seen.Add(row.Id)) distinct.Add((row, factsOf(row)));
        var replaced = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var (row, _) in distinct)
            if (row.SeriesItemId is { } series)
                (replaced.TryGetValue(series, out var starts) ? starts : replaced[series] = []).Add(OriginalStartSeconds(row.EventId));
        return distinct.Select(d => (d.Row, d.Facts,
            d.Row.ExchangeItemId is { } item && replaced.TryGetValue(item, out var starts) ? starts : (IReadOnlyCollection<long>)[])).ToList();
    }

    /// <summary>The occurrences of one series master touching [startMs, endMs) that no stored row replaces.</summary>
    public static IEnumerable<EventInstance> Occurrences(StoredEventRow master, StoredEventFacts facts, string rule, long startMs, long endMs,
        IReadOnlyCollection<long> replacedStarts)
    {
        var uuid = EventPayloads.SeriesUuidOf(facts.EventId);
        var allDay = facts.StartTime.Date is not null;
        DateTimeOffset seriesStart;
        TimeZoneInfo zone;
        long offsetMs, durationMs;
        if (allDay)
        {
            // The payload keeps an all-day series' dates, not its zone: walk the dates in UTC and move each to the instant the
            // series' first day starts at.
            var firstDay = DateOnly.ParseExact(facts.StartTime.Date!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            seriesStart = new DateTimeOffset(firstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            zone = TimeZoneInfo.Utc;
            offsetMs = master.StartMs - seriesStart.ToUnixTimeMilliseconds();
            var lastDay = DateOnly.ParseExact(facts.EndTime.Date ?? facts.StartTime.Date!, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            durationMs = (lastDay.DayNumber - firstDay.DayNumber) * 86_400_000L;
        }
        else
        {
            seriesStart = DateTimeOffset.FromUnixTimeSeconds(long.Parse(facts.StartTime.Timestamp!, CultureInfo.InvariantCulture));
            zone = facts.StartTime.Timezone is { } name && TimeZoneInfo.TryFindSystemTimeZoneById(name, out var found) ? found : TimeZoneInfo.Utc;
            offsetMs = 0;
            durationMs = long.Parse(facts.EndTime.Timestamp!, CultureInfo.InvariantCulture) * 1000 - seriesStart.ToUnixTimeMilliseconds();
        }

        ExchangeRecurrence? recurrence = null;
        try
        {
            recurrence = StoredRecurrence.Parse(rule, seriesStart, zone, allDay);
        }
        catch (FormatException)
        {
            // Not a rule the import writes (none is): answered below as its stored first occurrence, rather than not at all.
        }
        if (recurrence is null)
        {
            yield return AsStored(master, facts);
            yield break;
        }

        foreach (var start in StoredRecurrence.OccurrenceStarts(recurrence, seriesStart, zone, allDay, FirstDateToPlace(startMs - durationMs - offsetMs)))
        {
            var occurrenceStartMs = start.ToUnixTimeMilliseconds() + offsetMs;
            if (occurrenceStartMs >= endMs) yield break;
            if (occurrenceStartMs + durationMs <= startMs) continue;
            var seconds = occurrenceStartMs / 1000;
            if (replacedStarts.Count > 0 && IsReplaced(replacedStarts, seconds, allDay)) continue;
            yield return allDay
                ? new EventInstance(master, facts, $"{uuid}_{seconds}", new TimeInfo(Date: Day(start)),
                    new TimeInfo(Date: Day(start.AddMilliseconds(durationMs))), occurrenceStartMs, occurrenceStartMs + durationMs, IsOccurrence: true)
                : new EventInstance(master, facts, $"{uuid}_{seconds}", facts.StartTime with { Timestamp = Seconds(occurrenceStartMs) },
                    facts.EndTime with { Timestamp = Seconds(occurrenceStartMs + durationMs) }, occurrenceStartMs, occurrenceStartMs + durationMs,
                    IsOccurrence: true);
        }
    }

    private static bool IsReplaced(IReadOnlyCollection<long> replacedStarts, long seconds, bool allDay)
    {
        foreach (var replaced in replacedStarts)
            if (allDay ? Math.Abs(replaced - seconds) < AllDayMatchSeconds : replaced == seconds) return true;
        return false;
    }

    private static EventInstance AsStored(StoredEventRow row, StoredEventFacts facts) =>
        new(row, facts, facts.EventId, facts.StartTime, facts.EndTime, row.StartMs, row.EndMs, IsOccurrence: false);

    /// <summary>
    /// The earliest date an occurrence ending after <paramref name="earliestStartMs"/> can fall on, in any zone (a day's
    /// margin either way), so the walk places no date long before the range.
    /// </summary>
    private static DateOnly FirstDateToPlace(long earliestStartMs) =>
        earliestStartMs <= EarliestPlaceableMs ? default
        : DateOnly.FromDateTime(DateTimeOffset.FromUnixTimeMilliseconds(earliestStartMs).UtcDateTime).AddDays(-2);

    private static readonly long EarliestPlaceableMs = DateTimeOffset.MinValue.AddDays(3).ToUnixTimeMilliseconds();

    private static StoredEventFacts PayloadFacts(StoredEventRow row) => ReadFacts(row.Payload);

    /// <summary>
    /// The facts of a row read with its free/busy columns (<see cref="EventRangeReads.PrimaryCalendarsRangeAsync"/>), as
    /// its payload has them: the payload's end zone is left out, since nothing a free/busy answer holds depends on it, and
    /// a row that is no series master has no start and end here (its instance is placed by its start_ms and end_ms).
    /// </summary>
    public static StoredEventFacts BusyColumnFacts(StoredEventRow row) =>
        new(row.EventId, new TimeInfo(row.StartDate, row.StartTimestamp, row.TimeZone), new TimeInfo(row.EndDate, row.EndTimestamp),
            row.Recurrence, row.FreeBusyStatus!, row.Status!, row.SelfRsvpStatus);

    /// <summary>
    /// The facts of a stored payload, read without its attendees: the serialiser writes them last (CalendarEvent's order),
    /// and they are most of its bytes, so only the text before them is parsed. A property name is the only place the text
    /// <c>"attendees":</c> can occur, since a quote inside a string is escaped.
    /// </summary>
    public static StoredEventFacts ReadFacts(string payload)
    {
        var attendees = payload.IndexOf(",\"attendees\":", StringComparison.Ordinal);
        var facts = attendees < 0
            ? JsonSerializer.Deserialize(payload, FeishuJsonContext.Default.StoredEventFacts)
            : JsonSerializer.Deserialize(string.Concat(payload.AsSpan(0, attendees), "}"), FeishuJsonContext.Default.StoredEventFacts);
        return facts!;
    }

    private static long OriginalStartSeconds(string eventId) =>
        long.Parse(eventId.AsSpan(eventId.LastIndexOf('_') + 1), NumberStyles.None, CultureInfo.InvariantCulture);

    private static string Day(DateTimeOffset utcMidnight) => utcMidnight.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Seconds(long ms) => (ms / 1000).ToString(CultureInfo.InvariantCulture);
}
