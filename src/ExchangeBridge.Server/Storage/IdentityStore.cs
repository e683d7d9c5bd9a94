using System.Data.Common;
using Dapper;
using ExchangeBridge.Core.Identity;

namespace ExchangeBridge.Server.Storage;

// Rows as Dapper fills them: settable properties, so each dialect's column types convert (INTEGER → bool, long).
public sealed class AppRecord
{
    public string AppId { get; set; } = "";
    public string TenantKey { get; set; } = "";
    public string Name { get; set; } = "";
    public string SecretProtected { get; set; } = "";
    public string Scopes { get; set; } = "";
}

public sealed class TokenRecord
{
    public string Kind { get; set; } = "";
    public string AppId { get; set; } = "";
    public string TenantKey { get; set; } = "";
    public string? UserId { get; set; }
    public long ExpiresAt { get; set; }
    public string AppScopes { get; set; } = "";
    public string AppTenantKey { get; set; } = "";
    public bool AppHasBot { get; set; }
    public bool? IsSuperAdmin { get; set; }
    public long? ResignedAt { get; set; }
    /// <summary>When the user's resignation revoked the token; a revoked token never works again, even once reinstated.</summary>
    public long? RevokedAt { get; set; }
}

public sealed class CodeRecord
{
    public string AppId { get; set; } = "";
    public string TenantKey { get; set; } = "";
    public string UserId { get; set; } = "";
    public string? RedirectUri { get; set; }
    public long ExpiresAt { get; set; }
    public long? UsedAt { get; set; }
    public long? ResignedAt { get; set; }
}

public sealed class UserRecord
{
    public string TenantKey { get; set; } = "";
    public string UserId { get; set; } = "";
    public string UnionId { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Email { get; set; }
    public bool IsSuperAdmin { get; set; }
    public long? ResignedAt { get; set; }
}

/// <summary>What <c>access_tokens.kind</c> holds for each kind of token: the one table of those names.</summary>
public static class StoredTokenKinds
{
    public static string Of(TokenKind kind) => kind switch
    {
        TokenKind.Tenant => "tenant",
        TokenKind.App => "app",
        TokenKind.User => "user",
        _ => "refresh",
    };
}

/// <summary>Every SQL statement about tenants, apps, users and tokens. Each method is one round trip.</summary>
public sealed class IdentityStore(IDatabase database)
{
    public async Task<AppRecord?> FindAppAsync(string appId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<AppRecord>(new CommandDefinition(
            """
            SELECT app_id AS AppId, tenant_key AS TenantKey, name AS Name, secret_protected AS SecretProtected,
                   scopes AS Scopes
            FROM apps WHERE app_id = @appId AND deleted_at IS NULL
            """, new { appId }, cancellationToken: ct));
    }

    /// <summary>A token with its app's current scopes and, for a user token, the user's current standing.</summary>
    public async Task<TokenRecord?> FindTokenAsync(string tokenHash, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<TokenRecord>(new CommandDefinition(
            """
            SELECT t.kind AS Kind, t.app_id AS AppId, t.tenant_key AS TenantKey, t.user_id AS UserId,
                   t.expires_at AS ExpiresAt, a.scopes AS AppScopes, a.tenant_key AS AppTenantKey, a.bot_enabled AS AppHasBot,
                   u.is_super_admin AS IsSuperAdmin, u.resigned_at AS ResignedAt, t.revoked_at AS RevokedAt
            FROM access_tokens t
            JOIN apps a ON a.app_id = t.app_id AND a.deleted_at IS NULL
            LEFT JOIN users u ON u.tenant_key = t.tenant_key AND u.user_id = t.user_id
            WHERE t.token_hash = @tokenHash
            """, new { tokenHash }, cancellationToken: ct));
    }

    public async Task InsertTokenAsync(string tokenHash, string kind, string appId, string tenantKey, string? userId,
        long expiresAt, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO access_tokens (token_hash, kind, app_id, tenant_key, user_id, expires_at)
            VALUES (@tokenHash, @kind, @appId, @tenantKey, @userId, @expiresAt)
            """, new { tokenHash, kind, appId, tenantKey, userId, expiresAt }, tx, cancellationToken: token)), ct);
    }

    public async Task InsertCodeAsync(string codeHash, string appId, string tenantKey, string userId,
        string? redirectUri, long expiresAt, CancellationToken ct)
    {
        await database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO authorization_codes (code_hash, app_id, tenant_key, user_id, redirect_uri, expires_at)
            VALUES (@codeHash, @appId, @tenantKey, @userId, @redirectUri, @expiresAt)
            """, new { codeHash, appId, tenantKey, userId, redirectUri, expiresAt }, tx, cancellationToken: token)), ct);
    }

    /// <summary>
    /// Spends an authorization code and stores the user and refresh tokens it buys, in one transaction: a code
    /// buys tokens once, however many callers race for it. Null when the code is unknown or already spent. A code
    /// redeemed with the wrong redirect_uri is left unspent, so an intercepted code tried elsewhere costs the
    /// rightful client nothing.
    /// </summary>
    public Task<CodeRecord?> RedeemCodeAsync(string codeHash, long now, string? redirectUri, IssuedPair pair, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => RedeemCodeAsync(c, tx, codeHash, now, redirectUri, pair, token), ct);

    private static async Task<CodeRecord?> RedeemCodeAsync(DbConnection c, DbTransaction tx, string codeHash, long now,
        string? redirectUri, IssuedPair pair, CancellationToken ct)
    {
        var code = await c.QuerySingleOrDefaultAsync<CodeRecord>(new CommandDefinition(
            """
            SELECT c.app_id AS AppId, c.tenant_key AS TenantKey, c.user_id AS UserId, c.redirect_uri AS RedirectUri,
                   c.expires_at AS ExpiresAt, c.used_at AS UsedAt, u.resigned_at AS ResignedAt
            FROM authorization_codes c
            LEFT JOIN users u ON u.tenant_key = c.tenant_key AND u.user_id = c.user_id
            WHERE c.code_hash = @codeHash
            """, new { codeHash }, tx, cancellationToken: ct));
        if (code is null || code.UsedAt is not null || code.ExpiresAt <= now || code.AppId != pair.AppId ||
            code.ResignedAt is not null || !RedirectMatches(code, redirectUri))
            return code;

        var spent = await c.ExecuteAsync(new CommandDefinition(
            "UPDATE authorization_codes SET used_at = @now WHERE code_hash = @codeHash AND used_at IS NULL",
            new { codeHash, now }, tx, cancellationToken: ct));
        if (spent != 1) { code.UsedAt = now; return code; }
        await InsertPairAsync(c, tx, pair with { TenantKey = code.TenantKey, UserId = code.UserId }, ct);
        return code;
    }

    /// <summary>
    /// Whether a redemption names the redirect_uri its code was minted with (RFC 6749 §4.1.3): required when the code has
    /// one. A code minted without one takes any, as before.
    /// </summary>
    public static bool RedirectMatches(CodeRecord code, string? redirectUri) =>
        code.RedirectUri is null || string.Equals(code.RedirectUri, redirectUri, StringComparison.Ordinal);

    /// <summary>Swaps a refresh token for a new pair in one transaction; the old refresh token is spent.</summary>
    public Task<TokenRecord?> RotateRefreshTokenAsync(string refreshHash, long now, IssuedPair pair, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => RotateRefreshTokenAsync(c, tx, refreshHash, now, pair, token), ct);

    private static async Task<TokenRecord?> RotateRefreshTokenAsync(DbConnection c, DbTransaction tx, string refreshHash, long now,
        IssuedPair pair, CancellationToken ct)
    {
        var old = await c.QuerySingleOrDefaultAsync<TokenRecord>(new CommandDefinition(
            """
            SELECT t.kind AS Kind, t.app_id AS AppId, t.tenant_key AS TenantKey, t.user_id AS UserId,
                   t.expires_at AS ExpiresAt, a.scopes AS AppScopes, u.is_super_admin AS IsSuperAdmin,
                   u.resigned_at AS ResignedAt, t.revoked_at AS RevokedAt
            FROM access_tokens t
            JOIN apps a ON a.app_id = t.app_id AND a.deleted_at IS NULL
            LEFT JOIN users u ON u.tenant_key = t.tenant_key AND u.user_id = t.user_id
            WHERE t.token_hash = @refreshHash AND t.kind = @refresh
            """, new { refreshHash, refresh = StoredTokenKinds.Of(TokenKind.Refresh) }, tx, cancellationToken: ct));
        if (old is null || old.ExpiresAt <= now || old.AppId != pair.AppId || old.ResignedAt is not null || old.RevokedAt is not null)
            return old;

        var spent = await c.ExecuteAsync(new CommandDefinition(
            "DELETE FROM access_tokens WHERE token_hash = @refreshHash", new { refreshHash }, tx, cancellationToken: ct));
        if (spent != 1) return null;
        await InsertPairAsync(c, tx, pair with { TenantKey = old.TenantKey, UserId = old.UserId ?? "" }, ct);
        return old;
    }

    private static Task InsertPairAsync(DbConnection c, DbTransaction tx, IssuedPair pair, CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO access_tokens (token_hash, kind, app_id, tenant_key, user_id, expires_at)
            VALUES (@AccessHash, @user, @AppId, @TenantKey, @UserId, @AccessExpiresAt),
                   (@RefreshHash, @refresh, @AppId, @TenantKey, @UserId, @RefreshExpiresAt)
            """, new
            {
                pair.AccessHash, pair.RefreshHash, pair.AppId, pair.TenantKey, pair.UserId, pair.AccessExpiresAt, pair.RefreshExpiresAt,
                user = StoredTokenKinds.Of(TokenKind.User), refresh = StoredTokenKinds.Of(TokenKind.Refresh),
            }, tx, cancellationToken: ct));

    /// <summary>Removes expired tokens (refresh tokens included) and expired codes.</summary>
    public Task<int> DeleteExpiredAsync(long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, async (c, tx, token) =>
            await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM access_tokens WHERE expires_at <= @now", new { now }, tx, cancellationToken: token))
            + await c.ExecuteAsync(new CommandDefinition(
                "DELETE FROM authorization_codes WHERE expires_at <= @now", new { now }, tx, cancellationToken: token)), ct);

    public async Task<UserRecord?> FindUserByOpenIdAsync(string appId, string openId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<UserRecord>(new CommandDefinition(
            $"""
            SELECT {UserColumns} FROM open_ids o
            JOIN users u ON u.tenant_key = o.tenant_key AND u.user_id = o.user_id
            WHERE o.open_id = @openId AND o.app_id = @appId
            """, new { appId, openId }, cancellationToken: ct));
    }

    internal const string UserColumns =
        "u.tenant_key AS TenantKey, u.user_id AS UserId, u.union_id AS UnionId, u.name AS Name, u.email AS Email, " +
        "u.is_super_admin AS IsSuperAdmin, u.resigned_at AS ResignedAt";
}

/// <summary>A user token and its refresh token, about to be stored (hashes only).</summary>
public sealed record IssuedPair(
    string AccessHash, string RefreshHash, string AppId, string TenantKey, string UserId,
    long AccessExpiresAt, long RefreshExpiresAt);
