using System.Data.Common;
using Dapper;
using ExchangeBridge.Core.Identity;

namespace ExchangeBridge.Server.Storage;

public sealed class TenantRecord
{
    public string TenantKey { get; set; } = "";
    public string Name { get; set; } = "";
}

public sealed class AppSummary
{
    public string AppId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Scopes { get; set; } = "";
    public bool BotEnabled { get; set; }
}

public sealed class OpenIdRecord
{
    public string AppId { get; set; } = "";
    public string OpenId { get; set; } = "";
}

/// <summary>The operator API's SQL: tenants, apps, users, Exchange admin accounts, operator keys.</summary>
public sealed class AdminStore(IDatabase database)
{
    public static string NewTenantKey() => OpaqueSecrets.NewHex(8);
    public static string NewAppId() => "cli_" + OpaqueSecrets.NewHex(8);
    public static string NewUserId() => OpaqueSecrets.NewHex(4);
    public static string NewUnionId() => "on_" + OpaqueSecrets.NewHex(16);
    public static string NewOpenId() => "ou_" + OpaqueSecrets.NewHex(16);

    public async Task CreateTenantAsync(string tenantKey, string name, long now, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Rows(TouchedKinds.Tenants), (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO tenants (tenant_key, name, created_at) VALUES (@tenantKey, @name, @now)",
            new { tenantKey, name, now }, tx, cancellationToken: token)), ct);
    }

    public async Task<IReadOnlyList<TenantRecord>> ListTenantsAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<TenantRecord>(new CommandDefinition(
            "SELECT tenant_key AS TenantKey, name AS Name FROM tenants ORDER BY created_at, tenant_key", cancellationToken: ct))).AsList();
    }

    public async Task<TenantRecord?> FindTenantAsync(string tenantKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<TenantRecord>(new CommandDefinition(
            "SELECT tenant_key AS TenantKey, name AS Name FROM tenants WHERE tenant_key = @tenantKey",
            new { tenantKey }, cancellationToken: ct));
    }

    /// <summary>Stores an app and gives every user of its tenant an open_id for it, in one transaction.</summary>
    public async Task CreateAppAsync(string appId, string tenantKey, string name, string secretProtected, string scopes,
        bool botEnabled, long now, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Rows(TouchedKinds.Apps | TouchedKinds.OpenIds), async (c, tx, token) =>
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO apps (app_id, tenant_key, name, secret_protected, scopes, bot_enabled, created_at)
                VALUES (@appId, @tenantKey, @name, @secretProtected, @scopes, @botEnabled, @now)
                """, new { appId, tenantKey, name, secretProtected, scopes, botEnabled, now }, tx, cancellationToken: token));
            var userIds = await c.QueryAsync<string>(new CommandDefinition(
                "SELECT user_id FROM users WHERE tenant_key = @tenantKey", new { tenantKey }, tx, cancellationToken: token));
            return await InsertOpenIdsAsync(c, tx, tenantKey, userIds.Select(u => (appId, u)), token);
        }, ct);
    }

    /// <summary>Turns an app's bot capability on or off; false when the tenant has no such app.</summary>
    public Task<bool> SetAppBotAsync(string tenantKey, string appId, bool botEnabled, CancellationToken ct) =>
        database.WriteAsync(Touched.Rows(TouchedKinds.Apps), async (c, tx, token) => await c.ExecuteAsync(new CommandDefinition(
            "UPDATE apps SET bot_enabled = @botEnabled WHERE app_id = @appId AND tenant_key = @tenantKey AND deleted_at IS NULL",
            new { tenantKey, appId, botEnabled }, tx, cancellationToken: token)) == 1, ct);

    /// <summary>Marks an app deleted and drops its tokens: nothing it issued works any more.</summary>
    public async Task<bool> DeleteAppAsync(string tenantKey, string appId, long now, CancellationToken ct)
    {
        var deleted = await database.WriteAsync(Touched.Rows(TouchedKinds.Apps | TouchedKinds.Tokens), async (c, tx, token) =>
        {
            var appsDeleted = await c.ExecuteAsync(new CommandDefinition(
                "UPDATE apps SET deleted_at = @now WHERE app_id = @appId AND tenant_key = @tenantKey AND deleted_at IS NULL",
                new { appId, tenantKey, now }, tx, cancellationToken: token));
            await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM access_tokens WHERE app_id = @appId", new { appId }, tx, cancellationToken: token));
            return appsDeleted;
        }, ct);
        return deleted == 1;
    }

    public async Task<AppRecord?> FindAppAsync(string tenantKey, string appId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<AppRecord>(new CommandDefinition(
            """
            SELECT app_id AS AppId, tenant_key AS TenantKey, name AS Name, secret_protected AS SecretProtected, scopes AS Scopes
            FROM apps WHERE app_id = @appId AND tenant_key = @tenantKey AND deleted_at IS NULL
            """, new { appId, tenantKey }, cancellationToken: ct));
    }

    /// <summary>The tenant's apps that are not deleted (never their secrets).</summary>
    public async Task<IReadOnlyList<AppSummary>> ListAppsAsync(string tenantKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<AppSummary>(new CommandDefinition(
            """
            SELECT app_id AS AppId, name AS Name, scopes AS Scopes, bot_enabled AS BotEnabled
            FROM apps WHERE tenant_key = @tenantKey AND deleted_at IS NULL ORDER BY created_at, app_id
            """, new { tenantKey }, cancellationToken: ct))).AsList();
    }

    /// <summary>A page of the tenant's users in user_id order, those after <paramref name="afterUserId"/>.</summary>
    public async Task<IReadOnlyList<UserRecord>> ListUsersAsync(string tenantKey, string? afterUserId, int limit, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<UserRecord>(new CommandDefinition(
            $"""
            SELECT {IdentityStore.UserColumns} FROM users u
            WHERE u.tenant_key = @tenantKey AND u.user_id > @after ORDER BY u.user_id LIMIT @limit
            """, new { tenantKey, after = afterUserId ?? "", limit }, cancellationToken: ct))).AsList();
    }

    /// <summary>Stores a user and gives it an open_id for every app of its tenant, in one transaction.</summary>
    public async Task CreateUserAsync(UserRecord user, long now, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Rows(TouchedKinds.Users | TouchedKinds.OpenIds), async (c, tx, token) =>
        {
            await c.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO users (tenant_key, user_id, union_id, name, email, is_super_admin, created_at)
                VALUES (@TenantKey, @UserId, @UnionId, @Name, @Email, @IsSuperAdmin, @now)
                """, new { user.TenantKey, user.UserId, user.UnionId, user.Name, user.Email, user.IsSuperAdmin, now },
                tx, cancellationToken: token));
            var appIds = await c.QueryAsync<string>(new CommandDefinition(
                "SELECT app_id FROM apps WHERE tenant_key = @TenantKey", new { user.TenantKey }, tx, cancellationToken: token));
            return await InsertOpenIdsAsync(c, tx, user.TenantKey, appIds.Select(a => (a, user.UserId)), token);
        }, ct);
    }

    /// <summary>Gives a user a chosen open_id for an app (the demo's documented ou_xxxxxxxxxxxxxxxxxx).</summary>
    public async Task SetOpenIdAsync(string tenantKey, string appId, string userId, string openId, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Rows(TouchedKinds.OpenIds), (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            "UPDATE open_ids SET open_id = @openId WHERE tenant_key = @tenantKey AND app_id = @appId AND user_id = @userId",
            new { tenantKey, appId, userId, openId }, tx, cancellationToken: token)), ct);
    }

    public async Task<(UserRecord User, IReadOnlyList<OpenIdRecord> OpenIds)?> FindUserAsync(string tenantKey, string userId,
        CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var user = await c.QuerySingleOrDefaultAsync<UserRecord>(new CommandDefinition(
            $"SELECT {IdentityStore.UserColumns} FROM users u WHERE u.tenant_key = @tenantKey AND u.user_id = @userId",
            new { tenantKey, userId }, cancellationToken: ct));
        if (user is null) return null;
        var openIds = await c.QueryAsync<OpenIdRecord>(new CommandDefinition(
            """
            SELECT o.app_id AS AppId, o.open_id AS OpenId FROM open_ids o
            JOIN apps a ON a.app_id = o.app_id AND a.deleted_at IS NULL
            WHERE o.tenant_key = @tenantKey AND o.user_id = @userId ORDER BY o.app_id
            """, new { tenantKey, userId }, cancellationToken: ct));
        return (user, openIds.AsList());
    }

    /// <summary>
    /// Changes a user's standing. Resigning also revokes every token the user holds and deletes their pending codes and
    /// the event subscriptions they made, in the same transaction: their access ends at once rather than when a token expires, and reinstating them later
    /// brings none of it back. Revoked tokens are marked rather than deleted, so that while the user is resigned they
    /// are still recognised and answered with the platform's "resigned" codes (195100, 20021).
    /// </summary>
    public Task<bool> UpdateUserAsync(string tenantKey, string userId, bool? isSuperAdmin, bool? resigned, long now,
        CancellationToken ct) =>
        database.WriteAsync(Touched.Rows(TouchedKinds.Users | TouchedKinds.Tokens), async (c, tx, token) =>
        {
            var updated = await c.ExecuteAsync(new CommandDefinition(
                """
                UPDATE users SET
                    is_super_admin = COALESCE(@isSuperAdmin, is_super_admin),
                    resigned_at = CASE WHEN @resigned IS NULL THEN resigned_at WHEN @resigned THEN COALESCE(resigned_at, @now) ELSE NULL END
                WHERE tenant_key = @tenantKey AND user_id = @userId
                """, new { tenantKey, userId, isSuperAdmin, resigned, now }, tx, cancellationToken: token)) == 1;
            if (updated && resigned == true)
            {
                await c.ExecuteAsync(new CommandDefinition(
                    "UPDATE access_tokens SET revoked_at = @now WHERE tenant_key = @tenantKey AND user_id = @userId AND revoked_at IS NULL",
                    new { tenantKey, userId, now }, tx, cancellationToken: token));
                await c.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM authorization_codes WHERE tenant_key = @tenantKey AND user_id = @userId",
                    new { tenantKey, userId }, tx, cancellationToken: token));
                // The event subscriptions the user made for apps end with the access they were made under.
                await c.ExecuteAsync(new CommandDefinition(
                    "DELETE FROM event_subscriptions WHERE tenant_key = @tenantKey AND user_id = @userId",
                    new { tenantKey, userId }, tx, cancellationToken: token));
            }
            return updated;
        }, ct);

    public async Task<string?> FindUserIdByOpenIdAsync(string appId, string openId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT user_id FROM open_ids WHERE app_id = @appId AND open_id = @openId", new { appId, openId }, cancellationToken: ct));
    }

    /// <summary>
    /// Registers an Exchange admin account for a tenant, or replaces its settings when the tenant already has it.
    /// False when the address belongs to another tenant.
    /// </summary>
    public async Task<bool> UpsertAdminAccountAsync(AdminAccountRecord account, long now, CancellationToken ct)
    {
        return await database.WriteAsync(Touched.Rows(TouchedKinds.AdminAccounts), (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO exchange_admin_accounts (email, tenant_key, connector, endpoint, username, secret_protected,
                credential_kind, graph_tenant_id, graph_client_id, verification_state, verification_error, allow_cleartext_password,
                created_at)
            VALUES (@Email, @TenantKey, @Connector, @Endpoint, @Username, @SecretProtected, @CredentialKind, @GraphTenantId,
                @GraphClientId, @VerificationState, @VerificationError, @AllowCleartextPassword, @now)
            ON CONFLICT (email) DO UPDATE SET connector = excluded.connector, endpoint = excluded.endpoint,
                username = excluded.username, secret_protected = excluded.secret_protected, credential_kind = excluded.credential_kind,
                graph_tenant_id = excluded.graph_tenant_id, graph_client_id = excluded.graph_client_id,
                verification_state = excluded.verification_state, verification_error = excluded.verification_error,
                allow_cleartext_password = excluded.allow_cleartext_password
            WHERE exchange_admin_accounts.tenant_key = excluded.tenant_key
            """, new
            {
                account.Email, account.TenantKey, account.Connector, account.Endpoint, account.Username, account.SecretProtected,
                account.CredentialKind, account.GraphTenantId, account.GraphClientId, account.VerificationState, account.VerificationError,
                account.AllowCleartextPassword, now,
            }, tx, cancellationToken: token)), ct) == 1;
    }

    public async Task<AdminAccountRecord?> FindAdminAccountAsync(string tenantKey, string email, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<AdminAccountRecord>(new CommandDefinition(
            $"SELECT {BindingStore.AdminColumns} FROM exchange_admin_accounts WHERE email = @email AND tenant_key = @tenantKey",
            new { tenantKey, email }, cancellationToken: ct));
    }

    /// <summary>The tenant's admin accounts, credentials included (callers show only their kind).</summary>
    public async Task<IReadOnlyList<AdminAccountRecord>> ListAdminAccountsAsync(string tenantKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<AdminAccountRecord>(new CommandDefinition(
            $"SELECT {BindingStore.AdminColumns} FROM exchange_admin_accounts WHERE tenant_key = @tenantKey ORDER BY email",
            new { tenantKey }, cancellationToken: ct))).AsList();
    }

    public async Task SetVerificationAsync(string email, string state, string? error, long now, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Rows(TouchedKinds.AdminAccounts), (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE exchange_admin_accounts SET verification_state = @state, verification_error = @error,
                verified_at = CASE WHEN @state = @verified THEN @now ELSE verified_at END
            WHERE email = @email
            """, new { email, state, error, now, verified = Bindings.AdminAccountStates.Verified }, tx, cancellationToken: token)), ct);
    }

    /// <summary>Points an admin account at another endpoint (the demo's simulator, once the server knows its address).</summary>
    public async Task SetEndpointAsync(string email, string endpoint, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Rows(TouchedKinds.AdminAccounts), (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            "UPDATE exchange_admin_accounts SET endpoint = @endpoint WHERE email = @email", new { email, endpoint }, tx, cancellationToken: token)), ct);
    }

    public async Task AddOperatorKeyAsync(string keyHash, long now, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Rows(TouchedKinds.OperatorKeys), (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            "INSERT INTO operator_keys (key_hash, created_at) VALUES (@keyHash, @now) ON CONFLICT (key_hash) DO NOTHING",
            new { keyHash, now }, tx, cancellationToken: token)), ct);
    }

    public async Task<bool> IsEmptyAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM tenants", cancellationToken: ct)) == 0;
    }

    /// <summary>Gives each (app, user) pair an open_id it does not have yet; the number given.</summary>
    private static async Task<int> InsertOpenIdsAsync(DbConnection c, DbTransaction tx, string tenantKey,
        IEnumerable<(string AppId, string UserId)> pairs, CancellationToken ct)
    {
        var inserted = 0;
        foreach (var (appId, userId) in pairs)
            inserted += await c.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO open_ids (open_id, app_id, tenant_key, user_id) VALUES (@openId, @appId, @tenantKey, @userId)
                ON CONFLICT (app_id, user_id) DO NOTHING
                """, new { openId = NewOpenId(), appId, tenantKey, userId }, tx, cancellationToken: ct));
        return inserted;
    }
}
