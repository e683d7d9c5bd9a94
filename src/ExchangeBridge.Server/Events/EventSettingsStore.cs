using Dapper;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Events;

/// <summary>An app's event settings as stored; the encrypt key protected by the master key.</summary>
public sealed class AppEventSettingsRecord
{
    public string AppId { get; set; } = "";
    public string TenantKey { get; set; } = "";
    public string RequestUrl { get; set; } = "";
    public string VerificationToken { get; set; } = "";
    public string? EncryptKeyProtected { get; set; }
    public string EventTypes { get; set; } = "";
    public long VerifiedAt { get; set; }
}

/// <summary>Apps' event settings (the developer console's) and the subscriptions users made for them (the Open API's).</summary>
public sealed class EventSettingsStore(IDatabase database)
{
    public Task SaveAsync(AppEventSettingsRecord settings, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO app_event_settings (app_id, tenant_key, request_url, verification_token, encrypt_key_protected, event_types,
                verified_at, updated_at)
            VALUES (@AppId, @TenantKey, @RequestUrl, @VerificationToken, @EncryptKeyProtected, @EventTypes, @VerifiedAt, @now)
            ON CONFLICT (app_id) DO UPDATE SET request_url = excluded.request_url, verification_token = excluded.verification_token,
                encrypt_key_protected = excluded.encrypt_key_protected, event_types = excluded.event_types,
                verified_at = excluded.verified_at, updated_at = excluded.updated_at
            """, new { settings.AppId, settings.TenantKey, settings.RequestUrl, settings.VerificationToken, settings.EncryptKeyProtected,
                settings.EventTypes, settings.VerifiedAt, now }, tx, cancellationToken: token)), ct);

    public async Task<AppEventSettingsRecord?> FindAsync(string tenantKey, string appId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<AppEventSettingsRecord>(new CommandDefinition(
            """
            SELECT app_id AS AppId, tenant_key AS TenantKey, request_url AS RequestUrl, verification_token AS VerificationToken,
                   encrypt_key_protected AS EncryptKeyProtected, event_types AS EventTypes, verified_at AS VerifiedAt
            FROM app_event_settings WHERE tenant_key = @tenantKey AND app_id = @appId
            """, new { tenantKey, appId }, cancellationToken: ct));
    }

    /// <summary>The app stops receiving events: its settings go, and what was still to be sent to it fails.</summary>
    public Task<bool> DeleteAsync(string tenantKey, string appId, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, async (c, tx, token) =>
        {
            var deleted = await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM app_event_settings WHERE tenant_key = @tenantKey AND app_id = @appId", new { tenantKey, appId }, tx,
                cancellationToken: token));
            await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE event_deliveries SET state = @failed, last_error = @reason, lease_owner = NULL, lease_expires_at = NULL, updated_at = @now
                WHERE tenant_key = @tenantKey AND app_id = @appId AND state = @pending
                """, new { tenantKey, appId, now, failed = DeliveryStates.Failed, pending = DeliveryStates.Pending,
                    reason = "the app's event settings were removed" }, tx, cancellationToken: token));
            return deleted == 1;
        }, ct);

    /// <summary>A user subscribes an app (idempotently) to their calendar list or to one calendar's events.</summary>
    public Task SubscribeAsync(string appId, string tenantKey, string userId, string kind, string calendarId, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO event_subscriptions (app_id, tenant_key, user_id, kind, calendar_id, created_at)
            VALUES (@appId, @tenantKey, @userId, @kind, @calendarId, @now)
            ON CONFLICT (app_id, user_id, kind, calendar_id) DO NOTHING
            """, new { appId, tenantKey, userId, kind, calendarId, now }, tx, cancellationToken: token)), ct);

    public Task UnsubscribeAsync(string appId, string tenantKey, string userId, string kind, string calendarId, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM event_subscriptions
            WHERE app_id = @appId AND tenant_key = @tenantKey AND user_id = @userId AND kind = @kind AND calendar_id = @calendarId
            """, new { appId, tenantKey, userId, kind, calendarId }, tx, cancellationToken: token)), ct);
}
