using System.Data.Common;
using System.Globalization;
using Dapper;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Calendars;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// An event row as the range reads need it; <see cref="OwnerId"/> is the calendar owner's user_id. The free/busy read
/// fills the columns after <see cref="Payload"/> (migration 0012) instead of it, the item id and the start and end as the
/// payload writes them for a series master only (its occurrences are placed from them; any other row's instance is its
/// start_ms and end_ms); the other reads fill the payload.
/// </summary>
public sealed class StoredEventRow
{
    public long Id { get; set; }
    public string OwnerId { get; set; } = "";
    public string EventId { get; set; } = "";
    /// <summary>In the free/busy read, only a series master's (its exceptions are found by it).</summary>
    public string? ExchangeItemId { get; set; }
    public string? SeriesItemId { get; set; }
    public long StartMs { get; set; }
    public long EndMs { get; set; }
    public string Payload { get; set; } = "";
    public string? FreeBusyStatus { get; set; }
    public string? Status { get; set; }
    public string? SelfRsvpStatus { get; set; }
    public string? StartDate { get; set; }
    public string? StartTimestamp { get; set; }
    public string? TimeZone { get; set; }
    public string? EndDate { get; set; }
    public string? EndTimestamp { get; set; }
    public string? Recurrence { get; set; }

    /// <summary>In the free/busy read, a series master's count of rewrites (migration 0015), under which its parse is held.</summary>
    public long Version { get; set; }

    /// <summary>A master held by the <see cref="SeriesCache"/>: where its occurrences fall, placed once for its version.</summary>
    internal SeriesPlacement? Placement { get; set; }
}

/// <summary>A user a request names: the id it was asked by, who that is here, and their address (to match attendees by).</summary>
public sealed record NamedUser(string AskedId, string UserId, string? Email, bool IsResigned);

/// <summary>
/// The reads that expand series over a time range (instance view, instances, free/busy): every row that touches the range,
/// and every modified or deleted occurrence of a series that does (wherever it was moved to), since those replace the
/// occurrences the series would otherwise have there. One statement per request, whatever the number of calendars (free/busy:
/// two, and a third for series masters the <see cref="SeriesCache"/> does not hold at the version read).
/// </summary>
public sealed class EventRangeReads(IDatabase database)
{
    /// <summary>The series masters the free/busy read has placed (on for every request: validated by each row's version).</summary>
    private readonly SeriesCache _series = new();

    /// <summary>
    /// Rows at most this long are found by their start alone (an index range); longer ones (series masters, whose span runs
    /// to the series' end, and multi-day events) by the partial index of migration 0008, which is kept to those few.
    /// A literal, not a parameter: the planners use a partial index only for a condition they can see is its own.
    /// </summary>
    private const long ShortMs = 86_400_000;

    private const string KeyColumns =
        "e.id AS Id, c.user_id AS OwnerId, e.event_id AS EventId, e.exchange_item_id AS ExchangeItemId, " +
        "e.series_item_id AS SeriesItemId, e.start_ms AS StartMs, e.end_ms AS EndMs";

    private const string Columns = KeyColumns + ", e.payload AS Payload";

    /// <summary>
    /// What free/busy reads of a series master, a long row or an exception: some fifty bytes a row rather than its payload's
    /// thousands, all held by the partial index events_long (migration 0013).
    /// </summary>
    private const string BusyColumns = KeyColumns +
        ", e.free_busy_status AS FreeBusyStatus, e.status AS Status, e.self_rsvp_status AS SelfRsvpStatus, e.start_date AS StartDate, " +
        "e.start_timestamp AS StartTimestamp, e.time_zone AS TimeZone, e.end_date AS EndDate, e.end_timestamp AS EndTimestamp, " +
        "e.recurrence AS Recurrence, c.id AS CalendarKey, e.version AS Version";

    /// <summary>The rows of one calendar for [startMs, endMs), with the exceptions of its series there.</summary>
    public async Task<IReadOnlyList<StoredEventRow>> CalendarRangeAsync(long calendarKey, long startMs, long endMs, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<StoredEventRow>(new CommandDefinition(RangeSql(Columns, "c.id = @calendarKey"),
            new { calendarKey, startMs, endMs, earliestShortStart = EarliestShortStart(startMs) }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// The rows of the primary calendars of <paramref name="userIds"/> (a tenant's users) for [startMs, endMs), with their
    /// free/busy columns and no payload (<see cref="EventInstances.BusyStretches"/> reads them). Most rows come a calendar
    /// at a time (<see cref="PrimaryCalendarsCommand"/>): its short rows packed into one text, and its series masters, some
    /// 2,500 of the 3,400 rows of a request for 100 users and rarely changed, as a list of each one's id and version, each
    /// then taken from the <see cref="SeriesCache"/>, placed, when it holds that version. The few long rows and the series'
    /// exceptions come as rows by a second statement; the masters the cache does not hold at the version read, in full
    /// by a third over the calendars that have them, and are held. Each statement reads the database a moment after the
    /// one before: a row changed in between is answered as it was when its statement read it.
    /// </summary>
    public async Task<IReadOnlyList<StoredEventRow>> PrimaryCalendarsRangeAsync(string tenantKey, IReadOnlyCollection<string> userIds,
        long startMs, long endMs, CancellationToken ct)
    {
        if (userIds.Count == 0) return [];
        await using var c = await database.OpenAsync(ct);
        var rows = new List<StoredEventRow>();
        var missed = new HashSet<long>();
        var missedCalendars = new HashSet<long>();
        var words = new Dictionary<string, string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        await using (var reader = await c.ExecuteReaderAsync(PrimaryCalendarsCommand(tenantKey, userIds, startMs, endMs, ct)))
            while (await reader.ReadAsync(ct))
            {
                var (calendarKey, ownerId) = (reader.GetInt64(0), reader.GetString(1));
                if (!reader.IsDBNull(2)) ReadPackedShortRows(reader.GetString(2), ownerId, words, rows);
                if (reader.IsDBNull(3)) continue;
                foreach (var (id, version) in IdsAndVersions(reader.GetString(3)))
                {
                    if (_series.Find(tenantKey, id, version, ownerId) is { } held) rows.Add(held);
                    else if (missed.Add(id)) missedCalendars.Add(calendarKey);
                }
            }

        await using (var reader = await c.ExecuteReaderAsync(PrimaryCalendarsLongRowsCommand(tenantKey, userIds, startMs, endMs, ct)))
            rows.AddRange(await ReadBusyRowsAsync(reader, null, ct));
        if (missed.Count == 0) return rows;

        await using (var reader = await c.ExecuteReaderAsync(new CommandDefinition(
                         MastersSql(BusyColumns, $"c.tenant_key = @tenantKey AND {database.InList("c.id", "@calendarKeys")}"),
                         new { tenantKey, calendarKeys = database.ListArgument(missedCalendars), startMs, endMs }, cancellationToken: ct)))
            foreach (var master in await ReadBusyRowsAsync(reader, missed, ct))
            {
                _series.Hold(tenantKey, master);
                rows.Add(master);
            }
        return rows;
    }

    /// <summary>
    /// The first statement of <see cref="PrimaryCalendarsRangeAsync"/>: a row per calendar with its key, its owner, its short
    /// rows that are no series master packed into one text (<see cref="PackedShortRow"/>), and "id:version,…" of each series
    /// master touching the range. A row and three values a calendar rather than a row and a dozen values an event: each
    /// value read is a call into the driver and each text a new string, some 20,000 calls a request for 100 users read
    /// row by row. Both lists come from the indexes alone (its plan is tested).
    /// </summary>
    internal CommandDefinition PrimaryCalendarsCommand(string tenantKey, IReadOnlyCollection<string> userIds, long startMs, long endMs,
        CancellationToken ct)
    {
        return new(
            $"""
            SELECT c.id, c.user_id,
              (SELECT {database.JoinedTexts(PackedShortRow, database.Character(PackedRowSeparator))} FROM events e WHERE e.calendar_key = c.id AND {ShortInRange("e")}),
              (SELECT {database.JoinedTexts("e.id || ':' || e.version", "','")} FROM events e WHERE e.calendar_key = c.id AND {MasterInRange("e")})
            FROM calendars c WHERE {PrimaryCalendarsOf("@userIds")}
            """,
            new { tenantKey, primary = true, userIds = database.ListArgument(userIds), startMs, endMs, earliestShortStart = EarliestShortStart(startMs) },
            cancellationToken: ct);
    }

    /// <summary>
    /// The second statement of <see cref="PrimaryCalendarsRangeAsync"/>: the long rows that are no series master and the
    /// exceptions of the masters touching the range, as rows (they are few; its plan is tested to read indexes only but
    /// for the exceptions).
    /// </summary>
    internal CommandDefinition PrimaryCalendarsLongRowsCommand(string tenantKey, IReadOnlyCollection<string> userIds, long startMs, long endMs,
        CancellationToken ct) =>
        new(LongRowsAndExceptionsSql(BusyColumns, PrimaryCalendarsOf("@userIds"), withMasters: false),
            new { tenantKey, primary = true, userIds = database.ListArgument(userIds), startMs, endMs }, cancellationToken: ct);

    /// <summary>
    /// A short row as <see cref="ReadPackedShortRows"/> reads it: id, event_id, series_item_id, start_ms, end_ms,
    /// free_busy_status, status and self_rsvp_status, between <see cref="PackedFieldSeparator"/>s, a text column written
    /// "=" and its value or empty for NULL. No value holds either separator: ids are numbers, event ids "{uuid}_{seconds}",
    /// Exchange's item ids base64 and the statuses the platform's words.
    /// </summary>
    private string PackedShortRow
    {
        get
        {
            var between = $" || {database.Character(PackedFieldSeparator)} || ";
            return string.Join(between, "e.id", "e.event_id", "coalesce('=' || e.series_item_id, '')", "e.start_ms", "e.end_ms",
                "coalesce('=' || e.free_busy_status, '')", "coalesce('=' || e.status, '')", "coalesce('=' || e.self_rsvp_status, '')");
        }
    }

    private const char PackedFieldSeparator = '\u001f';
    private const char PackedRowSeparator = '\u001e';
    private const int PackedFields = 8;

    /// <summary>
    /// The short rows of one calendar from <see cref="PackedShortRow"/>s, each status text made once a request (a few words
    /// repeated on every row) through <paramref name="words"/>.
    /// </summary>
    private static void ReadPackedShortRows(string packed, string ownerId, Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> words,
        List<StoredEventRow> rows)
    {
        Span<Range> fields = stackalloc Range[PackedFields + 1];
        foreach (var rowRange in packed.AsSpan().Split(PackedRowSeparator))
        {
            var row = packed.AsSpan(rowRange);
            if (row.Split(fields, PackedFieldSeparator) != PackedFields)
                throw new InvalidOperationException($"a packed free/busy row holds other than {PackedFields} fields: {row}");
            rows.Add(new StoredEventRow
            {
                Id = long.Parse(row[fields[0]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture), OwnerId = ownerId,
                EventId = row[fields[1]].ToString(), SeriesItemId = row[fields[2]] is [_, ..] seriesItemId ? seriesItemId[1..].ToString() : null,
                StartMs = long.Parse(row[fields[3]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
                EndMs = long.Parse(row[fields[4]], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
                FreeBusyStatus = Word(row[fields[5]]), Status = Word(row[fields[6]]), SelfRsvpStatus = Word(row[fields[7]]),
            });
        }

        string? Word(ReadOnlySpan<char> field)
        {
            if (field.IsEmpty) return null;
            var word = field[1..];
            if (words.TryGetValue(word, out var made)) return made;
            made = word.ToString();
            words.Dictionary[made] = made;
            return made;
        }
    }

    /// <summary>The primary calendars of the users in one parameter (<see cref="IDatabase.InList"/>).</summary>
    private string PrimaryCalendarsOf(string userIds) => $"c.tenant_key = @tenantKey AND c.is_primary = @primary AND {database.InList("c.user_id", userIds)}";

    /// <summary>The series masters of <paramref name="calendars"/> touching the range, by the partial index events_long.</summary>
    private static string MastersSql(string columns, string calendars) =>
        $"""
        SELECT {columns} FROM calendars c JOIN events e ON e.calendar_key = c.id
        WHERE {calendars} AND {MasterInRange("e")}
        """;

    /// <summary>The "id:version" pairs of <see cref="PrimaryCalendarsCommand"/>'s list.</summary>
    private static List<(long Id, long Version)> IdsAndVersions(string list)
    {
        var pairs = new List<(long, long)>();
        foreach (var range in list.AsSpan().Split(','))
        {
            var pair = list.AsSpan(range);
            var colon = pair.IndexOf(':');
            pairs.Add((long.Parse(pair[..colon], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
                long.Parse(pair[(colon + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)));
        }
        return pairs;
    }

    /// <summary>
    /// The free/busy rows that come as rows (long rows, exceptions, and masters read in full), read column by column rather
    /// than mapped: each value read is a call into the driver, so the columns only a series master uses (its item id, rule, and start and
    /// end as the payload writes them) are read for masters alone, numbers are read as numbers, and the owner's user_id is
    /// read once per calendar (by its key) rather than decoded into a new string on every row. With <paramref name="onlyIds"/>,
    /// the rows of those ids alone.
    /// </summary>
    private static async Task<List<StoredEventRow>> ReadBusyRowsAsync(DbDataReader reader, HashSet<long>? onlyIds, CancellationToken ct)
    {
        int id = reader.GetOrdinal("Id"), owner = reader.GetOrdinal("OwnerId"), eventId = reader.GetOrdinal("EventId"),
            itemId = reader.GetOrdinal("ExchangeItemId"), seriesItemId = reader.GetOrdinal("SeriesItemId"), startMs = reader.GetOrdinal("StartMs"),
            endMs = reader.GetOrdinal("EndMs"), freeBusy = reader.GetOrdinal("FreeBusyStatus"), status = reader.GetOrdinal("Status"),
            rsvp = reader.GetOrdinal("SelfRsvpStatus"), startDate = reader.GetOrdinal("StartDate"), startTimestamp = reader.GetOrdinal("StartTimestamp"),
            timeZone = reader.GetOrdinal("TimeZone"), endDate = reader.GetOrdinal("EndDate"), endTimestamp = reader.GetOrdinal("EndTimestamp"),
            recurrence = reader.GetOrdinal("Recurrence"), calendarKey = reader.GetOrdinal("CalendarKey"), version = reader.GetOrdinal("Version");
        var rows = new List<StoredEventRow>();
        var ownerOfCalendar = new Dictionary<long, string>();
        while (await reader.ReadAsync(ct))
        {
            var calendar = reader.GetInt64(calendarKey);
            if (!ownerOfCalendar.TryGetValue(calendar, out var ownerId)) ownerOfCalendar[calendar] = ownerId = reader.GetString(owner);
            var rowId = reader.GetInt64(id);
            if (onlyIds?.Contains(rowId) == false) continue;
            var row = new StoredEventRow
            {
                Id = rowId, OwnerId = ownerId, EventId = reader.GetString(eventId),
                SeriesItemId = NullableString(reader, seriesItemId), StartMs = reader.GetInt64(startMs), EndMs = reader.GetInt64(endMs),
                FreeBusyStatus = NullableString(reader, freeBusy), Status = NullableString(reader, status), SelfRsvpStatus = NullableString(reader, rsvp),
                Recurrence = NullableString(reader, recurrence),
            };
            if (row.Recurrence is not null && row.SeriesItemId is null)
            {
                row.Version = reader.GetInt64(version);
                row.ExchangeItemId = reader.GetString(itemId);
                row.StartDate = NullableString(reader, startDate);
                row.StartTimestamp = NullableString(reader, startTimestamp);
                row.TimeZone = NullableString(reader, timeZone);
                row.EndDate = NullableString(reader, endDate);
                row.EndTimestamp = NullableString(reader, endTimestamp);
            }
            rows.Add(row);
        }
        return rows;
    }

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Every stored row of a calendar touching [startMs, endMs), in start order (search reads them all).</summary>
    public async Task<IReadOnlyList<StoredEventRow>> CalendarRowsAsync(long calendarKey, long startMs, long endMs, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<StoredEventRow>(new CommandDefinition(
            $"""
            SELECT {Columns} FROM calendars c JOIN events e ON e.calendar_key = c.id
            WHERE c.id = @calendarKey AND e.start_ms < @endMs AND e.end_ms > @startMs
            ORDER BY e.start_ms, e.id
            """, new { calendarKey, startMs, endMs }, cancellationToken: ct))).AsList();
    }

    /// <summary>The event <paramref name="eventId"/> of a calendar with, for a series, its stored modified and deleted occurrences.</summary>
    public async Task<IReadOnlyList<StoredEventRow>> SeriesAsync(long calendarKey, string eventId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<StoredEventRow>(new CommandDefinition(
            $"""
            SELECT {Columns} FROM calendars c JOIN events e ON e.calendar_key = c.id
            WHERE c.id = @calendarKey AND (e.event_id = @eventId OR e.series_item_id = (
                SELECT m.exchange_item_id FROM events m WHERE m.calendar_key = @calendarKey AND m.event_id = @eventId AND m.series_item_id IS NULL))
            """, new { calendarKey, eventId }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Who the ids of <paramref name="type"/> name in the tenant (for the app, when they are open_ids); ids naming nobody
    /// are left out.
    /// </summary>
    public async Task<IReadOnlyList<NamedUser>> ResolveUsersAsync(string tenantKey, string appId, UserIdType type, IReadOnlyCollection<string> ids,
        CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var (asked, from) = type switch
        {
            UserIdType.OpenId => ("o.open_id", "open_ids o JOIN users u ON u.tenant_key = o.tenant_key AND u.user_id = o.user_id AND o.app_id = @appId"),
            UserIdType.UnionId => ("u.union_id", "users u"),
            _ => ("u.user_id", "users u"),
        };
        var rows = await c.QueryAsync<(string AskedId, string UserId, string? Email, long? ResignedAt)>(new CommandDefinition(
            $"SELECT {asked}, u.user_id, u.email, u.resigned_at FROM {from} WHERE u.tenant_key = @tenantKey AND {database.InList(asked, "@ids")}",
            new { tenantKey, appId, ids = database.ListArgument(ids) }, cancellationToken: ct));
        return rows.Select(r => new NamedUser(r.AskedId, r.UserId, r.Email, r.ResignedAt is not null)).ToList();
    }

    /// <summary>The earliest start a short row touching the range can have (a range open to the past stays open).</summary>
    internal static long EarliestShortStart(long startMs) => startMs > long.MinValue + ShortMs ? startMs - ShortMs : long.MinValue;

    /// <summary>
    /// Three parts: short rows that are no series master by their start (events_calendar_time), then
    /// <see cref="LongRowsAndExceptionsSql"/>'s two.
    /// </summary>
    private static string RangeSql(string columns, string calendars) =>
        $"""
        SELECT {columns} FROM calendars c JOIN events e ON e.calendar_key = c.id WHERE {calendars} AND {ShortInRange("e")}
        UNION ALL
        {LongRowsAndExceptionsSql(columns, calendars, withMasters: true)}
        """;

    /// <summary>
    /// Long rows and series masters by their end (the partial index events_long; a master of one short occurrence is there
    /// too, with the item id and rule its expansion needs), and the exceptions and deleted occurrences of every series
    /// master touching the range, joined on the master's item id through the partial index events_exceptions (migration
    /// 0015), which holds the exceptions alone. Without <paramref name="withMasters"/> the first part leaves the masters
    /// out (free/busy reads them apart).
    /// </summary>
    private static string LongRowsAndExceptionsSql(string columns, string calendars, bool withMasters) =>
        $"""
        SELECT {columns} FROM calendars c JOIN events e ON e.calendar_key = c.id
        WHERE {calendars} AND {LongOrSeries("e")} {(withMasters ? "" : $"AND NOT {IsMaster("e")}")} AND e.end_ms > @startMs AND e.start_ms < @endMs
        UNION ALL
        SELECT {columns} FROM calendars c JOIN events m ON m.calendar_key = c.id
          JOIN events e ON e.calendar_key = m.calendar_key AND e.series_item_id = m.exchange_item_id AND e.series_item_id IS NOT NULL
        WHERE {calendars} AND {LongOrSeries("m")} AND m.end_ms > @startMs AND m.start_ms < @endMs
          AND m.series_item_id IS NULL
        """;

    /// <summary>A short row that is no series master touching the range, found by its start (events_calendar_time).</summary>
    internal static string ShortInRange(string alias) =>
        $"{alias}.start_ms >= @earliestShortStart AND {alias}.start_ms < @endMs AND {alias}.end_ms > @startMs " +
        $"AND {alias}.end_ms - {alias}.start_ms <= {ShortMs} AND {alias}.recurrence IS NULL";

    /// <summary>A series master touching the range, found by its end (the partial index events_long).</summary>
    private static string MasterInRange(string alias) =>
        $"{LongOrSeries(alias)} AND {IsMaster(alias)} AND {alias}.end_ms > @startMs AND {alias}.start_ms < @endMs";

    /// <summary>The condition of the partial index events_long, written as it is there so the planners see it is its own.</summary>
    internal static string LongOrSeries(string alias) => $"({alias}.end_ms - {alias}.start_ms > {ShortMs} OR {alias}.recurrence IS NOT NULL)";

    /// <summary>A series master: a rule, and no series of its own (an exception names its master's item id).</summary>
    private static string IsMaster(string alias) => $"({alias}.recurrence IS NOT NULL AND {alias}.series_item_id IS NULL)";
}
