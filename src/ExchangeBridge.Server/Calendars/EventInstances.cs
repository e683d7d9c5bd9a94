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
        var starts = new List<long>();
        foreach (var (row, replaced) in Read(rows))
        {
            if (row.StartMs >= endMs || row.EndMs <= startMs) continue;
            // A master read through the series cache comes placed; otherwise its start and end columns are the payload's start
            // and end times (the end's zone aside, which placing ignores).
            if (row.SeriesItemId is null && row.Recurrence is { } rule &&
                (row.Placement ?? SeriesPlacement.Of(row.StartMs, row.StartDate, row.StartTimestamp, row.TimeZone, row.EndDate, row.EndTimestamp, rule))
                is { } series)
            {
                starts.Clear();
                series.StartsIn(startMs, endMs, replaced, starts);
                foreach (var occurrenceStartMs in starts)
                    stretches.Add(new BusyStretch(row, occurrenceStartMs, occurrenceStartMs + series.DurationMs, IsOccurrence: true));
            }
            else
                stretches.Add(new BusyStretch(row, row.StartMs, row.EndMs, IsOccurrence: false));
        }
        stretches.Sort(InExpandOrder);
        return stretches;
    }

    /// <summary>The longest id an instance is ordered by without allocating it (the platform's ids are some 40 characters).</summary>
    private const int IdOnStack = 128;

    /// <summary>
    /// <see cref="Expand(IReadOnlyList{StoredEventRow}, long, long)"/>'s order (start, then id), with an occurrence's id
    /// written on the stack rather than made: many occurrences start on the same hour, and each tie would otherwise format two.
    /// </summary>
    private static int InExpandOrder(BusyStretch a, BusyStretch b)
    {
        if (a.StartMs != b.StartMs) return a.StartMs.CompareTo(b.StartMs);
        Span<char> aId = stackalloc char[IdOnStack], bId = stackalloc char[IdOnStack];
        return IdOf(a, aId).SequenceCompareTo(IdOf(b, bId));
    }

    /// <summary>The instance's id, written into <paramref name="buffer"/> for an occurrence when it fits (else made).</summary>
    private static ReadOnlySpan<char> IdOf(in BusyStretch stretch, Span<char> buffer)
    {
        if (!stretch.IsOccurrence) return stretch.Row.EventId;
        var masterId = stretch.Row.EventId;
        var uuid = masterId.AsSpan(0, masterId.LastIndexOf('_') + 1); // with its '_'
        if (uuid.Length >= buffer.Length || !uuid.TryCopyTo(buffer) ||
            !(stretch.StartMs / 1000).TryFormat(buffer[uuid.Length..], out var digits, default, CultureInfo.InvariantCulture))
            return stretch.EventId;
        return buffer[..(uuid.Length + digits)];
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
        var starts = new List<long>();
        series.StartsIn(startMs, endMs, replacedStarts, starts);
        foreach (var occurrenceStartMs in starts)
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

    private static EventInstance AsStored(StoredEventRow row, StoredEventFacts facts) =>
        new(row, facts, facts.EventId, facts.StartTime, facts.EndTime, row.StartMs, row.EndMs, IsOccurrence: false);

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
