using System.Data.Common;
using System.Text.Json;
using Dapper;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Events;

/// <summary>The platform's event types we push, and ours (marked as ours by its prefix: no peer sends it).</summary>
public static class EventTypes
{
    public const string EventChanged = "calendar.calendar.event.changed_v4";
    public const string CalendarChanged = "calendar.calendar.changed_v4";

    /// <summary>Our extension, not a platform event: a binding's status moved (docs/events.md).</summary>
    public const string BindingStatusChanged = "exchange_bridge.exchange_binding.status_changed_v1";

    public static readonly IReadOnlyList<string> All = [EventChanged, CalendarChanged, BindingStatusChanged];
}

/// <summary>What happened to an event or a calendar, as the event's change_type says it.</summary>
public static class ChangeTypes
{
    public const string Create = "create";
    public const string Update = "update";
    public const string Delete = "delete";
}

/// <summary>What a user subscribed an app to: their calendar list, or one calendar's events.</summary>
public static class SubscriptionKinds
{
    public const string Calendars = "calendars";
    public const string Events = "events";
}

/// <summary>A change to one event; <paramref name="RemovedPayload"/> is what a deleted event last was.</summary>
public readonly record struct EventChange(string EventId, string ChangeType, string? RemovedPayload = null);

/// <summary>A change to one calendar of a user's list; <paramref name="RemovedSummary"/> is a removed calendar's last name.</summary>
public readonly record struct CalendarChange(string CalendarId, string ChangeType, string? RemovedSummary = null);

/// <summary>Whose calendar a change is in.</summary>
public readonly record struct CalendarOwner(string CalendarId, string TenantKey, string UserId);

/// <summary>
/// The change log and the outbox it feeds, written by static helpers on the transaction of the write that made the
/// change (an import page, a folder listing, an unbind, a status): a change is logged, and its events for subscribed
/// apps queued, exactly when it commits. One log, two readers: sync tokens (<see cref="ChangeReads"/>) and the
/// deliveries (<see cref="EventDeliveryStore"/>).
/// </summary>
public static class ChangeLog
{
    public static string EventStream(string calendarId) => $"calendar:{calendarId}";

    public static string CalendarListStream(string tenantKey, string userId) => $"user:{tenantKey}:{userId}";

    /// <summary>
    /// Takes <paramref name="count"/> sequence numbers of a stream and returns the first. The counter row stays locked
    /// until the write commits, so a stream's numbers commit in order and without gaps.
    /// </summary>
    private static async Task<long> TakeSequenceAsync(DbConnection c, DbTransaction tx, string stream, int count, CancellationToken ct)
    {
        var last = await c.ExecuteScalarAsync<long>(new CommandDefinition(
            """
            INSERT INTO change_streams (stream, last_seq) VALUES (@stream, @count)
            ON CONFLICT (stream) DO UPDATE SET last_seq = change_streams.last_seq + @count
            RETURNING last_seq
            """, new { stream, count = (long)count }, tx, cancellationToken: ct));
        return last - count + 1;
    }

    /// <summary>One row of the log: an event's change (event_id set) or a calendar's (event_id null).</summary>
    private readonly record struct LoggedChange(string CalendarId, string? EventId, string ChangeType, string? RemovedPayload);

    /// <summary>
    /// Rows per INSERT: a page's changes go in a few statements (one round trip each on PostgreSQL), not one per change;
    /// fewer on SQLite (<see cref="IDatabase.RowsPerStatement"/>).
    /// </summary>
    private const int InsertChunk = 64;

    /// <summary>
    /// The INSERT of 1..InsertChunk rows, each declared once: on SQLite each is prepared once for the writer connection's
    /// life and then only re-bound, instead of a 64-row statement parsed and its parameters built anew per chunk.
    /// </summary>
    private static readonly PreparedStatement?[] InsertChangesStatements = Enumerable.Range(0, InsertChunk + 1)
        .Select(rows => rows == 0 ? null : new PreparedStatement(
            "INSERT INTO calendar_changes (stream, seq, calendar_id, event_id, change_type, removed_payload, created_at) VALUES " +
            string.Join(", ", Enumerable.Range(0, rows).Select(i => $"(@stream, @q{i}, @c{i}, @e{i}, @t{i}, @r{i}, @now)"))))
        .ToArray();

    private static readonly string[][] InsertChangesNames = Enumerable.Range(0, InsertChunk)
        .Select(i => new[] { $"q{i}", $"c{i}", $"e{i}", $"t{i}", $"r{i}" }).ToArray();

    /// <summary>Logs <paramref name="count"/> changes numbered from <paramref name="firstSeq"/>, in order, a chunk per statement.</summary>
    private static async Task InsertChangesAsync(IDatabase database, DbConnection c, DbTransaction tx, string stream, long firstSeq, int count,
        Func<int, LoggedChange> change, long now, CancellationToken ct)
    {
        SqlArgument[]? values = null;
        var chunk = database.RowsPerStatement(InsertChunk);
        for (var start = 0; start < count; start += chunk)
        {
            var rows = Math.Min(chunk, count - start);
            // In the order the SQL first names them (stream, the first row's five, now, then each further row's five),
            // so that binding finds each at once.
            if (values?.Length != 2 + rows * 5) values = new SqlArgument[2 + rows * 5];
            values[0] = ("stream", stream);
            values[6] = ("now", now);
            for (var i = 0; i < rows; i++)
            {
                var (calendarId, eventId, changeType, removed) = change(start + i);
                var names = InsertChangesNames[i];
                var at = i == 0 ? 1 : 2 + i * 5;
                values[at] = (names[0], firstSeq + start + i);
                values[at + 1] = (names[1], calendarId);
                values[at + 2] = (names[2], eventId);
                values[at + 3] = (names[3], changeType);
                values[at + 4] = (names[4], removed);
            }
            await c.ExecuteAsync(tx, InsertChangesStatements[rows]!, values, ct);
        }
    }

    /// <summary>Logs a page's event changes in their order and queues calendar.calendar.event.changed_v4 for each subscribed app.</summary>
    public static async Task RecordEventChangesAsync(IDatabase database, DbConnection c, DbTransaction tx, CalendarOwner calendar, IReadOnlyList<EventChange> changes,
        long now, CancellationToken ct)
    {
        if (changes.Count == 0) return;
        var stream = EventStream(calendar.CalendarId);
        var first = await TakeSequenceAsync(c, tx, stream, changes.Count, ct);
        await InsertChangesAsync(database, c, tx, stream, first, changes.Count,
            i => new LoggedChange(calendar.CalendarId, changes[i].EventId, changes[i].ChangeType, changes[i].RemovedPayload), now, ct);

        var subscribers = await SubscribersAsync(c, tx, calendar.TenantKey, SubscriptionKinds.Events, calendar.CalendarId, null,
            EventTypes.EventChanged, ct);
        foreach (var subscriber in subscribers)
            foreach (var change in changes)
                await QueueAsync(c, tx, subscriber.AppId, calendar.TenantKey, EventTypes.EventChanged, stream, EventBody(w =>
                {
                    w.WriteString("calendar_id", calendar.CalendarId);
                    WriteUserIdList(w, subscriber);
                    w.WriteString("calendar_event_id", change.EventId);
                    w.WriteString("change_type", change.ChangeType);
                }), now, ct);
    }

    /// <summary>Logs changes to a user's calendar list and queues one calendar.calendar.changed_v4 per subscribed app.</summary>
    public static async Task RecordCalendarChangesAsync(IDatabase database, DbConnection c, DbTransaction tx, string tenantKey, string userId,
        IReadOnlyList<CalendarChange> changes, long now, CancellationToken ct)
    {
        if (changes.Count == 0) return;
        var stream = CalendarListStream(tenantKey, userId);
        var first = await TakeSequenceAsync(c, tx, stream, changes.Count, ct);
        await InsertChangesAsync(database, c, tx, stream, first, changes.Count,
            i => new LoggedChange(changes[i].CalendarId, null, changes[i].ChangeType, changes[i].RemovedSummary), now, ct);

        // The platform's event names only the user: the app reads what changed with the calendar list's sync_token.
        var subscribers = await SubscribersAsync(c, tx, tenantKey, SubscriptionKinds.Calendars, "", userId, EventTypes.CalendarChanged, ct);
        foreach (var subscriber in subscribers)
            await QueueAsync(c, tx, subscriber.AppId, tenantKey, EventTypes.CalendarChanged, stream,
                EventBody(w => WriteUserIdList(w, subscriber)), now, ct);
    }

    /// <summary>
    /// Our extension: every app of the tenant that asked for <see cref="EventTypes.BindingStatusChanged"/> learns that a
    /// binding's status moved, so it can wait for done without polling.
    /// </summary>
    public static async Task RecordBindingStatusAsync(DbConnection c, DbTransaction tx, long bindingKey, string status, string? errorReason,
        long now, CancellationToken ct)
    {
        var binding = await c.QuerySingleOrDefaultAsync<(string ExchangeBindingId, string TenantKey, string UserId, string AdminAccount, string ExchangeAccount)>(
            new CommandDefinition(
                "SELECT exchange_binding_id, tenant_key, user_id, admin_account, exchange_account FROM exchange_bindings WHERE id = @bindingKey",
                new { bindingKey }, tx, cancellationToken: ct));
        if (binding.ExchangeBindingId is null) return;
        var apps = await c.QueryAsync<(string AppId, string EventTypes, string? OpenId, string? UnionId)>(new CommandDefinition(
            """
            SELECT a.app_id, a.event_types, o.open_id, u.union_id FROM app_event_settings a
            JOIN apps p ON p.app_id = a.app_id AND p.deleted_at IS NULL
            LEFT JOIN open_ids o ON o.app_id = a.app_id AND o.user_id = @UserId
            LEFT JOIN users u ON u.tenant_key = a.tenant_key AND u.user_id = @UserId
            WHERE a.tenant_key = @TenantKey
            """, new { binding.TenantKey, binding.UserId }, tx, cancellationToken: ct));
        foreach (var app in apps.Where(a => Lists(a.EventTypes, EventTypes.BindingStatusChanged)))
            await QueueAsync(c, tx, app.AppId, binding.TenantKey, EventTypes.BindingStatusChanged, $"binding:{bindingKey}", EventBody(w =>
            {
                w.WriteString("exchange_binding_id", binding.ExchangeBindingId);
                w.WriteString("admin_account", binding.AdminAccount);
                w.WriteString("exchange_account", binding.ExchangeAccount);
                w.WriteString("status", status);
                if (errorReason is not null) w.WriteString("error_reason", errorReason);
                WriteUserIdList(w, new Subscriber(app.AppId, binding.UserId, app.OpenId, app.UnionId));
            }), now, ct);
    }

    private sealed record Subscriber(string AppId, string UserId, string? OpenId, string? UnionId);

    /// <summary>
    /// The apps subscribed to a target (of one user, when given) that asked, with their event settings, for this event type;
    /// a deleted app is sent nothing more.
    /// </summary>
    private static async Task<List<Subscriber>> SubscribersAsync(DbConnection c, DbTransaction tx, string tenantKey, string kind, string calendarId,
        string? userId, string eventType, CancellationToken ct)
    {
        var rows = await c.QueryAsync<(string AppId, string UserId, string EventTypes, string? OpenId, string? UnionId)>(new CommandDefinition(
            """
            SELECT s.app_id, s.user_id, a.event_types, o.open_id, u.union_id FROM event_subscriptions s
            JOIN app_event_settings a ON a.app_id = s.app_id
            JOIN apps p ON p.app_id = s.app_id AND p.deleted_at IS NULL
            LEFT JOIN open_ids o ON o.app_id = s.app_id AND o.user_id = s.user_id
            LEFT JOIN users u ON u.tenant_key = s.tenant_key AND u.user_id = s.user_id
            WHERE s.tenant_key = @tenantKey AND s.kind = @kind AND s.calendar_id = @calendarId AND (@userId IS NULL OR s.user_id = @userId)
            ORDER BY s.app_id, s.user_id
            """, new { tenantKey, kind, calendarId, userId }, tx, cancellationToken: ct));
        return rows.Where(r => Lists(r.EventTypes, eventType)).Select(r => new Subscriber(r.AppId, r.UserId, r.OpenId, r.UnionId)).ToList();
    }

    /// <summary>True when a space-separated list of event types holds <paramref name="eventType"/>.</summary>
    public static bool Lists(string eventTypes, string eventType) =>
        eventTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(eventType, StringComparer.Ordinal);

    /// <summary>An outbox row; its event_id is fixed here, once, so that every redelivery carries the same one.</summary>
    private static Task QueueAsync(DbConnection c, DbTransaction tx, string appId, string tenantKey, string eventType, string orderKey,
        string body, long now, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO event_deliveries (event_id, app_id, tenant_key, event_type, order_key, event_body, create_time, state, attempts,
                next_attempt_at, updated_at)
            VALUES (@eventId, @appId, @tenantKey, @eventType, @orderKey, @body, @now, @pending, 0, @now, @now)
            """, new { eventId = Guid.NewGuid().ToString("N"), appId, tenantKey, eventType, orderKey, body, now, pending = DeliveryStates.Pending },
            tx, cancellationToken: ct));

    /// <summary>user_id_list as the platform writes it: the user under each of its ids (the app's open_id where it has one).</summary>
    private static void WriteUserIdList(Utf8JsonWriter w, Subscriber subscriber)
    {
        w.WriteStartArray("user_id_list");
        w.WriteStartObject();
        if (subscriber.UnionId is not null) w.WriteString("union_id", subscriber.UnionId);
        w.WriteString("user_id", subscriber.UserId);
        if (subscriber.OpenId is not null) w.WriteString("open_id", subscriber.OpenId);
        w.WriteEndObject();
        w.WriteEndArray();
    }

    private static string EventBody(Action<Utf8JsonWriter> write) => EventEnvelope.JsonObject(write);
}
