using Dapper;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Events;

/// <summary>One logged change of a calendar's events with the event as it is now (null once gone) and as it last was.</summary>
public sealed record EventChangeRow(long Seq, string EventId, string? Payload, string? RemovedPayload);

/// <summary>One logged change of a user's calendar list with the calendar's name now (null once removed) and as it last was.</summary>
public sealed record CalendarChangeRow(long Seq, string CalendarId, string? Summary, string? RemovedSummary);

/// <summary>The change log read for sync tokens: where a stream stands, and what changed after a point of it.</summary>
public sealed class ChangeReads(IDatabase database)
{
    /// <summary>The stream's last committed sequence number (0 before its first change).</summary>
    public async Task<long> CurrentSeqAsync(string stream, CancellationToken ct) => (await ReadableSpanAsync(stream, ct)).Last;

    /// <summary>
    /// The part of the stream a sync_token can still read from: after <c>Pruned</c> (the last change deleted by the log's
    /// retention, 0 when none was) up to <c>Last</c>.
    /// </summary>
    public async Task<(long Pruned, long Last)> ReadableSpanAsync(string stream, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        // No row yet: nothing logged, nothing pruned, (0, 0).
        return await c.QueryFirstOrDefaultAsync<(long Pruned, long Last)>(new CommandDefinition(
            "SELECT pruned_seq, last_seq FROM change_streams WHERE stream = @stream", new { stream }, cancellationToken: ct));
    }

    public async Task<IReadOnlyList<EventChangeRow>> EventChangesAsync(string calendarId, long afterSeq, int limit, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<EventChangeRow>(new CommandDefinition(
            """
            SELECT ch.seq AS Seq, ch.event_id AS EventId, e.payload AS Payload, ch.removed_payload AS RemovedPayload
            FROM calendar_changes ch LEFT JOIN events e ON e.event_id = ch.event_id
            WHERE ch.stream = @stream AND ch.seq > @afterSeq
            ORDER BY ch.seq LIMIT @limit
            """, new { stream = ChangeLog.EventStream(calendarId), afterSeq, limit }, cancellationToken: ct))).AsList();
    }

    public async Task<IReadOnlyList<CalendarChangeRow>> CalendarChangesAsync(string tenantKey, string userId, long afterSeq, int limit,
        CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<CalendarChangeRow>(new CommandDefinition(
            """
            SELECT ch.seq AS Seq, ch.calendar_id AS CalendarId, k.summary AS Summary, ch.removed_payload AS RemovedSummary
            FROM calendar_changes ch
            LEFT JOIN calendars k ON k.calendar_id = ch.calendar_id AND k.tenant_key = @tenantKey AND k.user_id = @userId
            WHERE ch.stream = @stream AND ch.seq > @afterSeq
            ORDER BY ch.seq LIMIT @limit
            """, new { tenantKey, userId, stream = ChangeLog.CalendarListStream(tenantKey, userId), afterSeq, limit }, cancellationToken: ct))).AsList();
    }
}
