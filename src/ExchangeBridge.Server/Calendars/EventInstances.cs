using System.Globalization;
using System.Text.Json;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Calendars;

/// <summary>
/// What the range reads need of a stored event, read from its payload without its attendees and texts (free/busy reads
/// the same from the columns migration 0012 keeps of it: <see cref="BusyStretch"/>).
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
/// One instance as free/busy needs it: its time, and the row read with its free/busy columns whose facts it has (a series
/// master's for an occurrence). <see cref="EventId"/> is made when asked, for ordering instances that start together.
/// </summary>
public readonly record struct BusyStretch(StoredEventRow Row, long StartMs, long EndMs, bool IsOccurrence)
{
    public string EventId => IsOccurrence ? EventInstances.OccurrenceId(Row.EventId, StartMs) : Row.EventId;
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
    public static List<EventInstance> Expand(IReadOnlyList<StoredEventRow> rows, long startMs, long endMs)
    {
        var instances = new List<EventInstance>();
        foreach (var (row, replaced) in Read(rows))
        {
            if (row.StartMs >= endMs || row.EndMs <= startMs) continue;
            var facts = PayloadFacts(row);
            if (row.SeriesItemId is null && facts.Recurrence is { } rule)
                instances.AddRange(Occurrences(row, facts, rule, startMs, endMs, replaced));
            else
                instances.Add(AsStored(row, facts));
        }
        instances.Sort((a, b) => a.StartMs != b.StartMs ? a.StartMs.CompareTo(b.StartMs) : string.CompareOrdinal(a.EventId, b.EventId));
        return instances;
    }

    /// <summary>
    /// The instances touching [startMs, endMs) as free/busy needs them, in <see cref="Expand(IReadOnlyList{StoredEventRow}, long, long)"/>'s
    /// order, from rows read with their free/busy columns (<see cref="EventRangeReads.PrimaryCalendarsRangeAsync"/>): a time
    /// and the row whose columns are its facts. A free/busy answer of a hundred users places thousands of occurrences, so
    /// none gets an id, times in the payload's form or facts of its own; an id is made only to order two that start together.
    /// </summary>
    public static List<BusyStretch> BusyStretches(IReadOnlyList<StoredEventRow> rows, long startMs, long endMs)
    {
        var stretches = new List<BusyStretch>(rows.Count);
        foreach (var (row, replaced) in Read(rows))
        {
            if (row.StartMs >= endMs || row.EndMs <= startMs) continue;
            // A master's start and end columns are the payload's start and end times (the end's zone aside, which placing ignores).
            if (row.SeriesItemId is null && row.Recurrence is { } rule &&
                SeriesPlacement.Of(row.StartMs, row.StartDate, row.StartTimestamp, row.TimeZone, row.EndDate, row.EndTimestamp, rule) is { } series)
            {
                foreach (var occurrenceStartMs in series.StartsIn(startMs, endMs, replaced))
                    stretches.Add(new BusyStretch(row, occurrenceStartMs, occurrenceStartMs + series.DurationMs, IsOccurrence: true));
            }
            else
                stretches.Add(new BusyStretch(row, row.StartMs, row.EndMs, IsOccurrence: false));
        }
        stretches.Sort(static (a, b) => a.StartMs != b.StartMs ? a.StartMs.CompareTo(b.StartMs) : string.CompareOrdinal(a.EventId, b.EventId));
        return stretches;
    }

    /// <summary>
    /// The stored rows with at least one instance in [startMs, endMs), as stored (a series once), in <paramref name="rows"/>'
    /// order: a series only when one of its occurrences falls there, found without expanding the rest of it.
    /// </summary>
    public static IEnumerable<(StoredEventRow Row, StoredEventFacts Facts)> Touching(IReadOnlyList<StoredEventRow> rows, long startMs, long endMs)
    {
        foreach (var (row, replaced) in Read(rows))
        {
            if (row.StartMs >= endMs || row.EndMs <= startMs) continue;
            var facts = PayloadFacts(row);
            if (row.SeriesItemId is null && facts.Recurrence is { } rule && !Occurrences(row, facts, rule, startMs, endMs, replaced).Any()) continue;
            yield return (row, facts);
        }
    }

    /// <summary>
    /// Each row once and, for a series master, the original starts its stored modified or deleted occurrences replace (by
    /// the series' item id).
    /// </summary>
    private static List<(StoredEventRow Row, IReadOnlyCollection<long> Replaced)> Read(IReadOnlyList<StoredEventRow> rows)
    {
        var seen = new HashSet<long>();
        var distinct = new List<StoredEventRow>(rows.Count);
        var replaced = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!seen.Add(row.Id)) continue;
            distinct.Add(row);
            if (row.SeriesItemId is { } series)
                (replaced.TryGetValue(series, out var starts) ? starts : replaced[series] = []).Add(OriginalStartSeconds(row.EventId));
        }
        var read = new List<(StoredEventRow Row, IReadOnlyCollection<long> Replaced)>(distinct.Count);
        foreach (var row in distinct)
            read.Add((row, row.ExchangeItemId is { } item && replaced.TryGetValue(item, out var starts) ? starts : (IReadOnlyCollection<long>)[]));
        return read;
    }

    /// <summary>The occurrences of one series master touching [startMs, endMs) that no stored row replaces.</summary>
    public static IEnumerable<EventInstance> Occurrences(StoredEventRow master, StoredEventFacts facts, string rule, long startMs, long endMs,
        IReadOnlyCollection<long> replacedStarts)
    {
        var series = SeriesPlacement.Of(master.StartMs, facts.StartTime.Date, facts.StartTime.Timestamp, facts.StartTime.Timezone,
            facts.EndTime.Date, facts.EndTime.Timestamp, rule);
        if (series is null)
        {
            yield return AsStored(master, facts);
            yield break;
        }
        foreach (var occurrenceStartMs in series.StartsIn(startMs, endMs, replacedStarts))
        {
            var occurrenceEndMs = occurrenceStartMs + series.DurationMs;
            var id = OccurrenceId(facts.EventId, occurrenceStartMs);
            yield return series.AllDay
                ? new EventInstance(master, facts, id, new TimeInfo(Date: Day(occurrenceStartMs - series.OffsetMs)),
                    new TimeInfo(Date: Day(occurrenceEndMs - series.OffsetMs)), occurrenceStartMs, occurrenceEndMs, IsOccurrence: true)
                : new EventInstance(master, facts, id, facts.StartTime with { Timestamp = Seconds(occurrenceStartMs) },
                    facts.EndTime with { Timestamp = Seconds(occurrenceEndMs) }, occurrenceStartMs, occurrenceEndMs, IsOccurrence: true);
        }
    }

    /// <summary>An occurrence's id: the platform's "{uuid}_{original start in seconds}".</summary>
    internal static string OccurrenceId(string masterEventId, long occurrenceStartMs) =>
        $"{EventPayloads.SeriesUuidOf(masterEventId)}_{occurrenceStartMs / 1000}";

    /// <summary>
    /// Where a series master's occurrences fall: its recurrence read from its rule at its first start, its length, and for an
    /// all-day series the shift from its dates (walked in UTC) to the instant its first day starts at.
    /// </summary>
    private sealed record SeriesPlacement(ExchangeRecurrence Recurrence, DateTimeOffset SeriesStart, TimeZoneInfo Zone, bool AllDay, long OffsetMs,
        long DurationMs)
    {
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
                return new SeriesPlacement(StoredRecurrence.Parse(rule, seriesStart, zone, allDay), seriesStart, zone, allDay, offsetMs, durationMs);
            }
            catch (FormatException)
            {
                return null;
            }
        }

        /// <summary>The starts of the occurrences touching [startMs, endMs) that no stored row replaces, in order.</summary>
        public IEnumerable<long> StartsIn(long startMs, long endMs, IReadOnlyCollection<long> replacedStarts)
        {
            foreach (var start in StoredRecurrence.OccurrenceStarts(Recurrence, SeriesStart, Zone, AllDay, FirstDateToPlace(startMs - DurationMs - OffsetMs)))
            {
                var occurrenceStartMs = start.ToUnixTimeMilliseconds() + OffsetMs;
                if (occurrenceStartMs >= endMs) yield break;
                if (occurrenceStartMs + DurationMs <= startMs) continue;
                if (replacedStarts.Count > 0 && IsReplaced(replacedStarts, occurrenceStartMs / 1000, AllDay)) continue;
                yield return occurrenceStartMs;
            }
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

    private static string Day(long utcMidnightMs) => DateTimeOffset.FromUnixTimeMilliseconds(utcMidnightMs).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Seconds(long ms) => (ms / 1000).ToString(CultureInfo.InvariantCulture);
}
