using System.Data.Common;
using Dapper;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Server.Events;
using ExchangeBridge.Server.Import;

namespace ExchangeBridge.Server.Storage;

public sealed class CalendarRecord
{
    public long Id { get; set; }
    public string CalendarId { get; set; } = "";
    public long BindingKey { get; set; }
    public string TenantKey { get; set; } = "";
    public string UserId { get; set; } = "";
    public string ExchangeFolderId { get; set; } = "";
    public string Summary { get; set; } = "";
    public bool IsPrimary { get; set; }
    public int? WindowOffset { get; set; }
    public bool WindowDone { get; set; }
    public string? SyncState { get; set; }
    public bool HistoryDone { get; set; }
    /// <summary>This folder's last fault, when its last attempt failed; the binding's other folders sync on regardless.</summary>
    public string? SyncError { get; set; }
    /// <summary>True while the folder is synced again from no state: what that pass does not list is removed at its end.</summary>
    public bool Resyncing { get; set; }
    public long EventCount { get; set; }
}

/// <summary>What is stored of a listed item: its version, and the event id its series already has (kept for good).</summary>
public readonly record struct StoredEvent(string ChangeKey, string EventId);

/// <summary>
/// What one page of import changes in a calendar's progress, stored in the same transaction as its events.
/// <paramref name="StartResync"/> begins a pass from no state; <paramref name="EndResync"/> ends it, removing every
/// series and single the pass did not list.
/// </summary>
public sealed record CalendarProgress(int? WindowOffset = null, bool? WindowDone = null, string? SyncState = null,
    bool? HistoryDone = null, bool ClearSyncState = false, bool StartResync = false, bool EndResync = false);

/// <summary>
/// The imported calendars and events. Every write of an import page is one transaction that first checks the
/// binding still exists: once an unbind has committed, no late page of its import can land. Each write logs what it
/// changed (<see cref="ChangeLog"/>) in the same transaction, for sync tokens and the events pushed to apps.
/// </summary>
public sealed class CalendarStore(IDatabase database)
{
    private const string CalendarColumns =
        "id AS Id, calendar_id AS CalendarId, binding_key AS BindingKey, tenant_key AS TenantKey, user_id AS UserId, " +
        "exchange_folder_id AS ExchangeFolderId, summary AS Summary, is_primary AS IsPrimary, window_offset AS WindowOffset, " +
        "window_done AS WindowDone, sync_state AS SyncState, history_done AS HistoryDone, sync_error AS SyncError, " +
        "resyncing AS Resyncing";

    /// <summary>
    /// Makes the binding's calendars those of the listed folders: a calendar per new folder, a renamed folder's new name,
    /// and a vanished folder's calendar removed with its events. Moves the binding to <paramref name="status"/> when one is given.
    /// </summary>
    public async Task<bool> SaveFoldersAsync(long bindingKey, string tenantKey, string userId, IReadOnlyList<ExchangeCalendarFolder> folders,
        string? status, long now, CancellationToken ct)
    {
        var saved = await database.WriteAsync(Touched.Binding(bindingKey), async (c, tx, token) =>
        {
            if (!await BindingExistsAsync(c, tx, bindingKey, token)) return false;
            var known = (await c.QueryAsync<(string FolderId, string CalendarId, string Summary)>(new CommandDefinition(
                "SELECT exchange_folder_id, calendar_id, summary FROM calendars WHERE binding_key = @bindingKey", new { bindingKey }, tx,
                cancellationToken: token))).ToDictionary(k => k.FolderId, StringComparer.Ordinal);
            var changes = new List<CalendarChange>();
            foreach (var folder in folders)
                await c.ExecuteAsync(new CommandDefinition(
                    """
                    INSERT INTO calendars (calendar_id, binding_key, tenant_key, user_id, exchange_folder_id, summary, is_primary,
                        created_at, updated_at)
                    VALUES (@calendarId, @bindingKey, @tenantKey, @userId, @folderId, @summary, @isPrimary, @now, @now)
                    ON CONFLICT (binding_key, exchange_folder_id) DO UPDATE SET summary = excluded.summary, updated_at = excluded.updated_at
                    WHERE calendars.summary <> excluded.summary
                    """, new
                    {
                        calendarId = EventPayloads.CalendarIdFor(bindingKey, folder.FolderId), bindingKey, tenantKey, userId,
                        folderId = folder.FolderId, summary = folder.DisplayName, isPrimary = folder.IsDefault, now,
                    }, tx, cancellationToken: token));
            foreach (var folder in folders)
                if (!known.TryGetValue(folder.FolderId, out var calendar))
                    changes.Add(new CalendarChange(EventPayloads.CalendarIdFor(bindingKey, folder.FolderId), ChangeTypes.Create));
                else if (calendar.Summary != folder.DisplayName)
                    changes.Add(new CalendarChange(calendar.CalendarId, ChangeTypes.Update));
            changes.AddRange(await DeleteVanishedCalendarsAsync(c, tx, bindingKey, folders.Select(f => f.FolderId).ToArray(), token));
            await ChangeLog.RecordCalendarChangesAsync(database, c, tx, tenantKey, userId, changes, now, token);
            if (status is not null) await SetStatusAsync(c, tx, bindingKey, status, null, now, token);
            return true;
        }, ct);
        return saved;
    }

    /// <summary>A folder deleted in Exchange takes its calendar and events with it; answers the calendars removed.</summary>
    private async Task<IEnumerable<CalendarChange>> DeleteVanishedCalendarsAsync(DbConnection c, DbTransaction tx, long bindingKey, string[] folderIds,
        CancellationToken ct)
    {
        var vanished = $"SELECT id FROM calendars WHERE binding_key = @bindingKey AND {database.NotInList("exchange_folder_id", "@folderIds")}";
        await c.ExecuteAsync(new CommandDefinition($"DELETE FROM events WHERE calendar_key IN ({vanished})", new { bindingKey, folderIds = database.ListArgument(folderIds) }, tx,
            cancellationToken: ct));
        var removed = await c.QueryAsync<(string CalendarId, string Summary)>(new CommandDefinition(
            $"DELETE FROM calendars WHERE id IN ({vanished}) RETURNING calendar_id, summary", new { bindingKey, folderIds = database.ListArgument(folderIds) }, tx,
            cancellationToken: ct));
        return removed.Select(r => new CalendarChange(r.CalendarId, ChangeTypes.Delete, r.Summary)).ToList();
    }

    /// <summary>Records a fault of one folder alone; the page that next lands for it clears it.</summary>
    public Task RecordFolderFaultAsync(long calendarKey, string reason, long now, CancellationToken ct) =>
        // Read by the operator API only, never from a cache.
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            "UPDATE calendars SET sync_error = @reason, updated_at = @now WHERE id = @calendarKey", new { calendarKey, reason, now }, tx,
            cancellationToken: token)), ct);

    public async Task<IReadOnlyList<CalendarRecord>> ListForBindingAsync(long bindingKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<CalendarRecord>(new CommandDefinition(
            $"""
            SELECT {CalendarColumns}, (SELECT COUNT(*) FROM events e WHERE e.calendar_key = calendars.id) AS EventCount
            FROM calendars WHERE binding_key = @bindingKey ORDER BY id
            """, new { bindingKey }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// The stored change keys and event ids of the given items: an item whose key is unchanged need not be fetched again,
    /// and one that is keeps the event id it has.
    /// </summary>
    public async Task<Dictionary<string, StoredEvent>> StoredEventsAsync(long calendarKey, IReadOnlyCollection<string> itemIds, CancellationToken ct)
    {
        if (itemIds.Count == 0) return [];
        await using var c = await database.OpenAsync(ct);
        var rows = await c.QueryAsync<(string ItemId, string ChangeKey, string EventId)>(new CommandDefinition(
            $"SELECT exchange_item_id, change_key, event_id FROM events WHERE calendar_key = @calendarKey AND {database.InList("exchange_item_id", "@itemIds")}",
            new { calendarKey, itemIds = database.ListArgument(itemIds) }, cancellationToken: ct));
        return rows.ToDictionary(r => r.ItemId, r => new StoredEvent(r.ChangeKey, r.EventId));
    }

    /// <summary>
    /// Applies one page: upserts the events (a changed series master also drops the instances it no longer has),
    /// deletes the deleted items with their instances, marks the items a resync listed as seen by it, and records the
    /// calendar's progress. False when the binding is gone.
    /// </summary>
    public Task<bool> ApplyPageAsync(long bindingKey, long calendarKey, IReadOnlyList<EventRow> upserts,
        IReadOnlyCollection<string> deletedItemIds, IReadOnlyCollection<string> resyncListedItemIds, CalendarProgress progress, long now,
        CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) =>
            WritePageAsync(c, tx, bindingKey, calendarKey, upserts, deletedItemIds, resyncListedItemIds, progress, now, token), ct);

    private async Task<bool> WritePageAsync(DbConnection c, DbTransaction tx, long bindingKey, long calendarKey,
        IReadOnlyList<EventRow> upserts, IReadOnlyCollection<string> deletedItemIds, IReadOnlyCollection<string> resyncListedItemIds,
        CalendarProgress progress, long now,
        CancellationToken ct)
    {
        if (!await BindingExistsAsync(c, tx, bindingKey, ct)) return false;
        if (progress.StartResync) await StartResyncAsync(c, tx, calendarKey, ct);

        // A changed series master drops the instances it no longer has: one statement for the page's masters, keeping
        // every instance the page brings (an instance moved to another master is rewritten by its upsert below).
        var changes = new List<EventChange>();
        var masters = upserts.Where(r => r.SeriesItemId is null).Select(r => r.ExchangeItemId).ToArray();
        if (masters.Length > 0)
        {
            var keep = upserts.Where(r => r.SeriesItemId is not null).Select(r => r.ExchangeItemId).ToArray();
            changes.AddRange(await DeleteReturningAsync(c, tx,
                keep.Length == 0
                    ? $"DELETE FROM events WHERE calendar_key = @calendarKey AND {database.InList("series_item_id", "@masters")}"
                    : $"DELETE FROM events WHERE calendar_key = @calendarKey AND {database.InList("series_item_id", "@masters")} AND {database.NotInList("exchange_item_id", "@keep")}",
                new { calendarKey, masters = database.ListArgument(masters), keep = database.ListArgument(keep) }, ct));
        }
        changes.AddRange(await UpsertChangesAsync(c, tx, calendarKey, upserts, ct));
        await UpsertEventsAsync(c, tx, calendarKey, upserts, now, ct);
        if (deletedItemIds.Count > 0)
            changes.AddRange(await DeleteReturningAsync(c, tx,
                $"DELETE FROM events WHERE id IN ({ItemsWithTheirInstances("@deletedItemIds")})",
                new { calendarKey, deletedItemIds = database.ListArgument(deletedItemIds) }, ct));
        await MarkSeenAsync(c, tx, calendarKey, resyncListedItemIds, ct);
        if (progress.EndResync) changes.AddRange(await RemoveUnseenAsync(c, tx, calendarKey, ct));
        if (changes.Count > 0)
        {
            var owner = await c.QuerySingleAsync<(string CalendarId, string TenantKey, string UserId)>(new CommandDefinition(
                "SELECT calendar_id, tenant_key, user_id FROM calendars WHERE id = @calendarKey", new { calendarKey }, tx, cancellationToken: ct));
            await ChangeLog.RecordEventChangesAsync(database, c, tx, new CalendarOwner(owner.CalendarId, owner.TenantKey, owner.UserId), changes, now, ct);
        }

        await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE calendars SET
                window_offset = COALESCE(@WindowOffset, window_offset),
                window_done = COALESCE(@WindowDone, window_done),
                sync_state = CASE WHEN @ClearSyncState THEN NULL ELSE COALESCE(@SyncState, sync_state) END,
                history_done = COALESCE(@HistoryDone, history_done),
                resyncing = (resyncing AND NOT @EndResync),
                sync_error = NULL,
                updated_at = @now
            WHERE id = @calendarKey
            """, new
            {
                progress.WindowOffset, progress.WindowDone, progress.SyncState, progress.HistoryDone, progress.ClearSyncState,
                progress.EndResync, calendarKey, now,
            }, tx, cancellationToken: ct));
        return true;
    }

    /// <summary>A pass from no state gets the next number; a pass started again (its state forgotten once more) does too.</summary>
    private static async Task StartResyncAsync(DbConnection c, DbTransaction tx, long calendarKey, CancellationToken ct) =>
        await c.ExecuteAsync(new CommandDefinition(
            "UPDATE calendars SET resync_pass = resync_pass + 1, resyncing = @resyncing WHERE id = @calendarKey",
            new { calendarKey, resyncing = true }, tx, cancellationToken: ct));

    /// <summary>The items a resync listed, with their instances, carry its number, so that its end keeps them.</summary>
    private async Task MarkSeenAsync(DbConnection c, DbTransaction tx, long calendarKey, IReadOnlyCollection<string> itemIds, CancellationToken ct)
    {
        if (itemIds.Count == 0) return;
        await c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE events SET resync_pass = (SELECT resync_pass FROM calendars WHERE id = @calendarKey)
            WHERE id IN ({ItemsWithTheirInstances("@itemIds")})
            """, new { calendarKey, itemIds = database.ListArgument(itemIds) }, tx, cancellationToken: ct));
    }

    /// <summary>
    /// The row ids of the listed items of calendar @calendarKey and of their series' instances, each found through its own
    /// index. Written as one condition, "item IN list OR series IN list", SQLite answers it by reading every event of the
    /// calendar: on each page of a resync, so a mailbox's first sync read its calendar over and over (quadratic in its size).
    /// </summary>
    private string ItemsWithTheirInstances(string listParameter) =>
        $"""
        SELECT id FROM events WHERE calendar_key = @calendarKey AND {database.InList("exchange_item_id", listParameter)}
        UNION ALL
        SELECT id FROM events WHERE calendar_key = @calendarKey AND {database.InList("series_item_id", listParameter)}
        """;

    /// <summary>The end of a resync: every single and series it did not list is gone from Exchange, with its instances.</summary>
    private static Task<IEnumerable<EventChange>> RemoveUnseenAsync(DbConnection c, DbTransaction tx, long calendarKey, CancellationToken ct) =>
        DeleteReturningAsync(c, tx,
            """
            DELETE FROM events WHERE calendar_key = @calendarKey
              AND (resync_pass IS NULL OR resync_pass <> (SELECT resync_pass FROM calendars WHERE id = @calendarKey))
            """, new { calendarKey }, ct);

    /// <summary>Runs a DELETE of events and answers each removed event as a change, with what it last was.</summary>
    private static async Task<IEnumerable<EventChange>> DeleteReturningAsync(DbConnection c, DbTransaction tx, string delete, object parameters,
        CancellationToken ct) =>
        (await c.QueryAsync<(string EventId, string Payload)>(new CommandDefinition($"{delete} RETURNING event_id, payload", parameters, tx,
            cancellationToken: ct)))
        .Select(r => new EventChange(r.EventId, ChangeTypes.Delete, r.Payload)).ToList();

    /// <summary>
    /// What a page's upserts change: an item not stored yet is created, one whose change key moved is updated; one
    /// listed again unchanged (a page applied twice, a resync) changes nothing.
    /// </summary>
    private async Task<IEnumerable<EventChange>> UpsertChangesAsync(DbConnection c, DbTransaction tx, long calendarKey, IReadOnlyList<EventRow> upserts,
        CancellationToken ct)
    {
        if (upserts.Count == 0) return [];
        var last = new Dictionary<string, EventRow>(StringComparer.Ordinal);
        foreach (var row in upserts) last[row.ExchangeItemId] = row;
        var stored = (await c.QueryAsync<(string ItemId, string ChangeKey)>(new CommandDefinition(
                $"SELECT exchange_item_id, change_key FROM events WHERE calendar_key = @calendarKey AND {database.InList("exchange_item_id", "@itemIds")}",
                new { calendarKey, itemIds = database.ListArgument(last.Keys) }, tx, cancellationToken: ct)))
            .ToDictionary(r => r.ItemId, r => r.ChangeKey, StringComparer.Ordinal);
        return last.Values
            .Where(row => !stored.TryGetValue(row.ExchangeItemId, out var key) || key != row.ChangeKey)
            .Select(row => new EventChange(row.EventId, stored.ContainsKey(row.ExchangeItemId) ? ChangeTypes.Update : ChangeTypes.Create))
            .ToList();
    }

    public async Task<bool> SetBindingStatusAsync(long bindingKey, string status, string? errorReason, long now, CancellationToken ct)
    {
        return await database.WriteAsync(Touched.Binding(bindingKey), (c, tx, token) => SetStatusAsync(c, tx, bindingKey, status, errorReason, now, token), ct);
    }

    /// <summary>Removes everything a binding imported (its unbind job), logging its calendars as removed; idempotent.</summary>
    public Task DeleteForBindingAsync(long bindingKey, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, async (c, tx, token) =>
        {
            await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM events WHERE calendar_key IN (SELECT id FROM calendars WHERE binding_key = @bindingKey)",
                new { bindingKey }, tx, cancellationToken: token));
            var removed = (await c.QueryAsync<(string CalendarId, string TenantKey, string UserId, string Summary)>(new CommandDefinition(
                "DELETE FROM calendars WHERE binding_key = @bindingKey RETURNING calendar_id, tenant_key, user_id, summary", new { bindingKey }, tx,
                cancellationToken: token))).ToList();
            foreach (var owner in removed.GroupBy(r => (r.TenantKey, r.UserId)))
                await ChangeLog.RecordCalendarChangesAsync(database, c, tx, owner.Key.TenantKey, owner.Key.UserId,
                    owner.Select(r => new CalendarChange(r.CalendarId, ChangeTypes.Delete, r.Summary)).ToList(), now, token);
            return removed.Count;
        }, ct);

    // Reads for the calendar Open API, always scoped by tenant and owner.

    public async Task<IReadOnlyList<CalendarRecord>> ListAsync(string tenantKey, string userId, long afterId, int limit, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<CalendarRecord>(new CommandDefinition(
            $"""
            SELECT {CalendarColumns} FROM calendars
            WHERE tenant_key = @tenantKey AND user_id = @userId AND id > @afterId
            ORDER BY id LIMIT @limit
            """, new { tenantKey, userId, afterId, limit }, cancellationToken: ct))).AsList();
    }

    public async Task<CalendarRecord?> FindAsync(string tenantKey, string userId, string calendarId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<CalendarRecord>(new CommandDefinition(
            $"SELECT {CalendarColumns} FROM calendars WHERE calendar_id = @calendarId AND tenant_key = @tenantKey AND user_id = @userId",
            new { tenantKey, userId, calendarId }, cancellationToken: ct));
    }

    /// <summary>Events touching [startMs, endMs), in id order after <paramref name="afterId"/>.</summary>
    public async Task<IReadOnlyList<(long Id, string Payload)>> ListEventsAsync(long calendarKey, long startMs, long endMs, long afterId,
        int limit, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<(long, string)>(EventsPageCommand(calendarKey, startMs, endMs, afterId, limit, ct))).AsList();
    }

    /// <summary>
    /// A page of a calendar's events touching a range, found as the range reads find them (<see cref="EventRangeReads"/>):
    /// short rows by their start from a day before the range (events_calendar_time), long rows and series masters by their
    /// end (events_long). Bounded by the range's end alone, the index hands over the calendar's whole past, each row read
    /// from the table to keep the few that end in the range: during an import on PostgreSQL a week of a calendar of 425
    /// events read 208 table pages, writing out dirty ones the import had left to make room for them. The long rows' start
    /// is compared as <c>+e.start_ms</c>, which no index serves: without statistics SQLite otherwise reads them by their
    /// start through events_calendar_time, the whole past again.
    /// </summary>
    internal static CommandDefinition EventsPageCommand(long calendarKey, long startMs, long endMs, long afterId, int limit, CancellationToken ct) =>
        new($"""
            SELECT id, payload FROM events e
            WHERE e.calendar_key = @calendarKey AND e.id > @afterId AND {EventRangeReads.ShortInRange("e")}
            UNION ALL
            SELECT id, payload FROM events e
            WHERE e.calendar_key = @calendarKey AND e.id > @afterId AND {EventRangeReads.LongOrSeries("e")} AND e.end_ms > @startMs AND +e.start_ms < @endMs
            ORDER BY id LIMIT @limit
            """, new { calendarKey, startMs, endMs, earliestShortStart = EventRangeReads.EarliestShortStart(startMs), afterId, limit },
            cancellationToken: ct);

    public async Task<string?> FindEventAsync(long calendarKey, string eventId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT payload FROM events WHERE calendar_key = @calendarKey AND event_id = @eventId", new { calendarKey, eventId },
            cancellationToken: ct));
    }

    private const int UpsertChunk = 32;
    private static readonly PreparedStatement?[] UpsertStatements = new PreparedStatement?[UpsertChunk + 1];

    /// <summary>
    /// Upserts events as multi-row INSERTs of up to <see cref="UpsertChunk"/> rows: a statement per 32 events instead of
    /// one per event (a round-trip each on PostgreSQL). On SQLite each statement is prepared once for the writer
    /// connection's life rather than once per page, and carries fewer rows (<see cref="IDatabase.RowsPerStatement"/>):
    /// it finds each parameter by name in a linear scan, so binding grows with the square of the statement's parameters.
    /// A row listed twice keeps its last version, since one INSERT … ON CONFLICT may not touch a row twice. Every rewrite
    /// counts the row's version up (migration 0015), which is what free/busy's parsed series are held under.
    /// </summary>
    private async Task UpsertEventsAsync(DbConnection c, DbTransaction tx, long calendarKey, IReadOnlyList<EventRow> upserts,
        long now, CancellationToken ct)
    {
        if (upserts.Count == 0) return;
        var rows = upserts;
        if (upserts.Select(r => r.ExchangeItemId).Distinct(StringComparer.Ordinal).Count() != upserts.Count)
        {
            var last = new Dictionary<string, EventRow>(StringComparer.Ordinal);
            foreach (var row in upserts) last[row.ExchangeItemId] = row;
            rows = last.Values.ToList();
        }
        SqlArgument[]? values = null;
        var chunk = database.RowsPerStatement(UpsertChunk);
        for (var start = 0; start < rows.Count; start += chunk)
        {
            var count = Math.Min(chunk, rows.Count - start);
            if (values?.Length != 2 + count * UpsertRowNames.Count) values = new SqlArgument[2 + count * UpsertRowNames.Count];
            values[0] = ("c", calendarKey);
            values[1] = ("now", now);
            for (var i = 0; i < count; i++)
            {
                var row = rows[start + i];
                var names = UpsertRowParameters[i];
                var at = 2 + i * UpsertRowNames.Count;
                values[at] = (names.EventId, row.EventId);
                values[at + 1] = (names.ExchangeItemId, row.ExchangeItemId);
                values[at + 2] = (names.SeriesItemId, row.SeriesItemId);
                values[at + 3] = (names.ChangeKey, row.ChangeKey);
                values[at + 4] = (names.StartMs, row.StartMs);
                values[at + 5] = (names.EndMs, row.EndMs);
                values[at + 6] = (names.Payload, row.Payload);
                values[at + 7] = (names.FreeBusyStatus, row.Facts.FreeBusyStatus);
                values[at + 8] = (names.Status, row.Facts.Status);
                values[at + 9] = (names.SelfRsvpStatus, row.Facts.SelfRsvpStatus);
                values[at + 10] = (names.StartDate, row.Facts.StartTime.Date);
                values[at + 11] = (names.StartTimestamp, row.Facts.StartTime.Timestamp);
                values[at + 12] = (names.TimeZone, row.Facts.StartTime.Timezone);
                values[at + 13] = (names.EndDate, row.Facts.EndTime.Date);
                values[at + 14] = (names.EndTimestamp, row.Facts.EndTime.Timestamp);
                values[at + 15] = (names.Recurrence, row.Facts.Recurrence);
            }
            await c.ExecuteAsync(tx, UpsertStatements[count] ??= UpsertStatement(count), values, ct);
        }
    }

    /// <summary>The parameter names of the i-th row of a multi-row upsert, used both to write its SQL and to give its values.</summary>
    private sealed class UpsertRowNames(int row)
    {
        /// <summary>How many parameters a row has.</summary>
        public const int Count = 16;

        public string EventId { get; } = $"e{row}";
        public string ExchangeItemId { get; } = $"x{row}";
        public string SeriesItemId { get; } = $"s{row}";
        public string ChangeKey { get; } = $"k{row}";
        public string StartMs { get; } = $"a{row}";
        public string EndMs { get; } = $"b{row}";
        public string Payload { get; } = $"p{row}";
        public string FreeBusyStatus { get; } = $"f{row}";
        public string Status { get; } = $"t{row}";
        public string SelfRsvpStatus { get; } = $"r{row}";
        public string StartDate { get; } = $"sd{row}";
        public string StartTimestamp { get; } = $"st{row}";
        public string TimeZone { get; } = $"z{row}";
        public string EndDate { get; } = $"ed{row}";
        public string EndTimestamp { get; } = $"et{row}";
        public string Recurrence { get; } = $"rr{row}";
    }

    private static readonly UpsertRowNames[] UpsertRowParameters = Enumerable.Range(0, UpsertChunk).Select(i => new UpsertRowNames(i)).ToArray();

    private static PreparedStatement UpsertStatement(int rows)
    {
        var sql = new System.Text.StringBuilder(
            "INSERT INTO events (event_id, calendar_key, exchange_item_id, series_item_id, change_key, start_ms, end_ms, payload, updated_at, " +
            "free_busy_status, status, self_rsvp_status, start_date, start_timestamp, time_zone, end_date, end_timestamp, recurrence) VALUES ");
        for (var i = 0; i < rows; i++)
        {
            var n = UpsertRowParameters[i];
            sql.Append(i == 0 ? "" : ", ")
                .Append($"(@{n.EventId}, @c, @{n.ExchangeItemId}, @{n.SeriesItemId}, @{n.ChangeKey}, @{n.StartMs}, @{n.EndMs}, @{n.Payload}, @now, ")
                .Append($"@{n.FreeBusyStatus}, @{n.Status}, @{n.SelfRsvpStatus}, @{n.StartDate}, @{n.StartTimestamp}, @{n.TimeZone}, @{n.EndDate}, ")
                .Append($"@{n.EndTimestamp}, @{n.Recurrence})");
        }
        sql.Append("""
             ON CONFLICT (calendar_key, exchange_item_id) DO UPDATE SET change_key = excluded.change_key,
                series_item_id = excluded.series_item_id, start_ms = excluded.start_ms, end_ms = excluded.end_ms,
                payload = excluded.payload, updated_at = excluded.updated_at, free_busy_status = excluded.free_busy_status,
                status = excluded.status, self_rsvp_status = excluded.self_rsvp_status, start_date = excluded.start_date,
                start_timestamp = excluded.start_timestamp, time_zone = excluded.time_zone, end_date = excluded.end_date,
                end_timestamp = excluded.end_timestamp, recurrence = excluded.recurrence, version = events.version + 1
            """);
        return new PreparedStatement(sql.ToString());
    }

    private static async Task<bool> BindingExistsAsync(DbConnection c, DbTransaction tx, long bindingKey, CancellationToken ct) =>
        await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT 1 FROM exchange_bindings WHERE id = @bindingKey", new { bindingKey }, tx, cancellationToken: ct)) is not null;

    /// <summary>Sets a binding's status; a status that moved is announced to the apps that asked (our extension's event).</summary>
    private static async Task<bool> SetStatusAsync(DbConnection c, DbTransaction tx, long bindingKey, string status, string? errorReason,
        long now, CancellationToken ct)
    {
        var before = await c.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT status FROM exchange_bindings WHERE id = @bindingKey", new { bindingKey }, tx, cancellationToken: ct));
        if (before is null) return false;
        await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE exchange_bindings SET status = @status, error_reason = @errorReason, updated_at = @now,
                cal_done_at = CASE WHEN @status = @calDone THEN @now ELSE cal_done_at END,
                timespan_done_at = CASE WHEN @status = @timespanDone THEN @now ELSE timespan_done_at END,
                imported_at = CASE WHEN @status = @done AND imported_at IS NULL THEN @now ELSE imported_at END
            WHERE id = @bindingKey
            """, new
            {
                bindingKey, status, errorReason, now, done = BindingStatus.Done.ToWire(), calDone = BindingStatus.CalDone.ToWire(),
                timespanDone = BindingStatus.TimespanDone.ToWire(),
            }, tx, cancellationToken: ct));
        if (before != status) await ChangeLog.RecordBindingStatusAsync(c, tx, bindingKey, status, errorReason, now, ct);
        return true;
    }
}
