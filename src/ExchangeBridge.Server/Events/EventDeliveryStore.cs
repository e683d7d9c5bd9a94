using Dapper;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Events;

/// <summary>A delivery's states: pending until the app answered 200 (delivered) or the retries ran out (failed).</summary>
public static class DeliveryStates
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

/// <summary>A leased delivery with what sending it needs: the event and the app's request URL, token and (protected) encrypt key.</summary>
public sealed class ClaimedDelivery
{
    public long Id { get; set; }
    public string EventId { get; set; } = "";
    public string AppId { get; set; } = "";
    public string TenantKey { get; set; } = "";
    public string EventType { get; set; } = "";
    public string EventBody { get; set; } = "";
    public long CreateTime { get; set; }
    public int Attempts { get; set; }
    public string RequestUrl { get; set; } = "";
    public string VerificationToken { get; set; } = "";
    public string? EncryptKeyProtected { get; set; }
}

/// <summary>
/// A delivery as the operator API shows it (never the event's body: it names users). A class read by property, so that
/// the column types each engine reports (even for no rows) need not match a constructor.
/// </summary>
public sealed class DeliveryView
{
    public long Id { get; set; }
    public string EventId { get; set; } = "";
    public string AppId { get; set; } = "";
    public string EventType { get; set; } = "";
    public string State { get; set; } = "";
    public int Attempts { get; set; }
    public long CreateTime { get; set; }
    public long NextAttemptAt { get; set; }
    public long? DeliveredAt { get; set; }
    public string? LastError { get; set; }
    public long UpdatedAt { get; set; }
}

/// <summary>
/// The outbox's deliveries (rows written by <see cref="ChangeLog"/>), claimed with a lease as the import's jobs are, so
/// that several instances share them and a dead instance's claim runs out. Only the head of each app's order key (the
/// oldest pending delivery of one calendar, one user's list, one binding) may be claimed: events reach an app in the
/// order their changes committed.
/// </summary>
public sealed class EventDeliveryStore(IDatabase database)
{
    /// <summary>Leases up to <paramref name="limit"/> due heads; on PostgreSQL rows another instance is taking are skipped, not waited for.</summary>
    public async Task<List<ClaimedDelivery>> ClaimAsync(string owner, long now, long leaseMs, int limit, CancellationToken ct)
    {
        var claimed = await database.WriteAsync(Touched.Nothing, async (c, tx, token) => (await c.QueryAsync<ClaimedDelivery>(new CommandDefinition(
            $"""
            UPDATE event_deliveries SET lease_owner = @owner, lease_expires_at = @leaseUntil, attempts = attempts + 1, updated_at = @now
            WHERE id IN (
                SELECT d.id FROM event_deliveries d
                WHERE d.state = @pending AND d.next_attempt_at <= @now AND (d.lease_expires_at IS NULL OR d.lease_expires_at < @now)
                  AND NOT EXISTS (SELECT 1 FROM event_deliveries p
                                  WHERE p.app_id = d.app_id AND p.order_key = d.order_key AND p.state = @pending AND p.id < d.id)
                ORDER BY d.id LIMIT @limit {database.SkipLockedRowsOf("d")})
            RETURNING id AS Id, event_id AS EventId, app_id AS AppId, tenant_key AS TenantKey, event_type AS EventType,
                      event_body AS EventBody, create_time AS CreateTime, attempts AS Attempts
            """, new { owner, now, leaseUntil = now + leaseMs, limit, pending = DeliveryStates.Pending }, tx, cancellationToken: token))).AsList(), ct);
        return await WithSettingsAsync(claimed, ct);
    }

    /// <summary>Adds each claimed delivery's app settings (read after the claim, off the writer).</summary>
    private async Task<List<ClaimedDelivery>> WithSettingsAsync(List<ClaimedDelivery> claimed, CancellationToken ct)
    {
        if (claimed.Count == 0) return claimed;
        await using var c = await database.OpenAsync(ct);
        var settings = (await c.QueryAsync<(string AppId, string RequestUrl, string VerificationToken, string? EncryptKeyProtected)>(new CommandDefinition(
                $"SELECT app_id, request_url, verification_token, encrypt_key_protected FROM app_event_settings WHERE {database.InList("app_id", "@appIds")}",
                new { appIds = database.ListArgument(claimed.Select(d => d.AppId).Distinct().ToArray()) }, cancellationToken: ct)))
            .ToDictionary(s => s.AppId, StringComparer.Ordinal);
        foreach (var delivery in claimed)
            if (settings.TryGetValue(delivery.AppId, out var s))
                (delivery.RequestUrl, delivery.VerificationToken, delivery.EncryptKeyProtected) = (s.RequestUrl, s.VerificationToken, s.EncryptKeyProtected);
        return claimed;
    }

    /// <summary>The app answered 200. Only while this worker still holds the lease: a delivery retaken by another is theirs.</summary>
    public Task<bool> DeliveredAsync(ClaimedDelivery delivery, string owner, long now, CancellationToken ct) =>
        SettleAsync(delivery, owner, DeliveryStates.Delivered, now, null, now, now, ct);

    /// <summary>A failed attempt: tried again at <paramref name="retryAt"/>, or failed for good when there is none left.</summary>
    public Task<bool> AttemptFailedAsync(ClaimedDelivery delivery, string owner, long? retryAt, string error, long now, CancellationToken ct) =>
        SettleAsync(delivery, owner, retryAt is null ? DeliveryStates.Failed : DeliveryStates.Pending, retryAt ?? now, error, null, now, ct);

    private async Task<bool> SettleAsync(ClaimedDelivery delivery, string owner, string state, long nextAttemptAt, string? error, long? deliveredAt,
        long now, CancellationToken ct) =>
        await database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE event_deliveries SET state = @state, next_attempt_at = @nextAttemptAt, last_error = @error, delivered_at = @deliveredAt,
                lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
            WHERE id = @id AND lease_owner = @owner
            """, new { id = delivery.Id, owner, state, nextAttemptAt, error, deliveredAt, now }, tx,
            cancellationToken: token)), ct) == 1;

    /// <summary>
    /// Deletes up to <paramref name="limit"/> settled (delivered or failed) deliveries settled before <paramref name="cutoff"/>,
    /// through the (state, next_attempt_at) index: settling sets next_attempt_at to the time it settled. A bounded batch
    /// keeps the writer's turn short; a full batch means more may be left.
    /// </summary>
    public Task<int> DeleteSettledBeforeAsync(long cutoff, int limit, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM event_deliveries WHERE id IN (
                SELECT id FROM event_deliveries
                WHERE state IN (@delivered, @failed) AND next_attempt_at < @cutoff
                LIMIT @limit)
            """, new { cutoff, limit, delivered = DeliveryStates.Delivered, failed = DeliveryStates.Failed }, tx, cancellationToken: token)), ct);

    /// <summary>The tenant's latest deliveries, newest first; of one app, or of those in one state, when asked.</summary>
    public async Task<IReadOnlyList<DeliveryView>> RecentAsync(string tenantKey, string? appId, string? state, int limit, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<DeliveryView>(new CommandDefinition(
            """
            SELECT id AS Id, event_id AS EventId, app_id AS AppId, event_type AS EventType, state AS State, attempts AS Attempts,
                   create_time AS CreateTime, next_attempt_at AS NextAttemptAt, delivered_at AS DeliveredAt, last_error AS LastError,
                   updated_at AS UpdatedAt
            FROM event_deliveries
            WHERE tenant_key = @tenantKey AND (@appId IS NULL OR app_id = @appId) AND (@state IS NULL OR state = @state)
            ORDER BY id DESC LIMIT @limit
            """, new { tenantKey, appId, state, limit }, cancellationToken: ct))).AsList();
    }
}
