using Dapper;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Events;

/// <summary>
/// Keeps the change log to its retention: deletes the oldest changes and raises each stream's <c>pruned_seq</c> in the
/// same transaction, so that a sync_token from before the cut is answered as expired instead of silently missing changes.
/// </summary>
public sealed class ChangeLogRetention(IDatabase database)
{
    /// <summary>
    /// Deletes up to <paramref name="limit"/> of the oldest changes logged before <paramref name="cutoff"/> (read from the
    /// front of the primary key, where the oldest are); a full batch means more may be left.
    /// </summary>
    public Task<int> PruneBeforeAsync(long cutoff, int limit, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, async (c, tx, token) =>
        {
            var upTo = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT MAX(id) FROM (SELECT id FROM calendar_changes WHERE created_at < @cutoff ORDER BY id LIMIT @limit) oldest",
                new { cutoff, limit }, tx, cancellationToken: token));
            if (upTo is null) return 0;
            // Every change of a stream numbered after pruned_seq is still in the log: the deleted ones are at most it.
            await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE change_streams SET pruned_seq = cut.seq
                FROM (SELECT stream, MAX(seq) AS seq FROM calendar_changes WHERE id <= @upTo AND created_at < @cutoff GROUP BY stream) cut
                WHERE change_streams.stream = cut.stream AND change_streams.pruned_seq < cut.seq
                """, new { upTo, cutoff }, tx, cancellationToken: token));
            return await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM calendar_changes WHERE id <= @upTo AND created_at < @cutoff", new { upTo, cutoff }, tx, cancellationToken: token));
        }, ct);
}
