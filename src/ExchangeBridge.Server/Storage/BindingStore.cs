using System.Data.Common;
using Dapper;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Core.Identity;

namespace ExchangeBridge.Server.Storage;

/// <summary>A user with all three of its ids, the open_id being the one the calling app sees.</summary>
public sealed class TargetUser
{
    public string UserId { get; set; } = "";
    public string UnionId { get; set; } = "";
    public string? OpenId { get; set; }
    public long? ResignedAt { get; set; }

    public string IdOfType(UserIdType type) => type switch
    {
        UserIdType.UnionId => UnionId,
        UserIdType.UserId => UserId,
        _ => OpenId ?? "",
    };
}

/// <summary>The user a create names, and the tenant and verification state of its admin account (null: no such account).</summary>
public sealed record CreateTargets(TargetUser User, string? AdminTenantKey, string? AdminVerificationState);

public sealed class AdminAccountRecord
{
    public string Email { get; set; } = "";
    public string TenantKey { get; set; } = "";
    public string Connector { get; set; } = "";
    public string Endpoint { get; set; } = "";
    public string Username { get; set; } = "";
    public string SecretProtected { get; set; } = "";
    /// <summary>What <see cref="SecretProtected"/> holds: <c>secret</c> or <c>certificate</c> (<see cref="Admin.AdminAccounts"/>).</summary>
    public string CredentialKind { get; set; } = Admin.AdminAccounts.SecretCredential;
    public string? GraphTenantId { get; set; }
    public string? GraphClientId { get; set; }
    public string VerificationState { get; set; } = "";
    public string? VerificationError { get; set; }
    /// <summary>The operator accepted that an EWS password goes to a plain http:// endpoint in clear (see AdminAccounts).</summary>
    public bool AllowCleartextPassword { get; set; }
}

public sealed class BindingRecord
{
    public long Id { get; set; }
    public string ExchangeBindingId { get; set; } = "";
    public string TenantKey { get; set; } = "";
    public string AdminAccount { get; set; } = "";
    public string ExchangeAccount { get; set; } = "";
    public string ExchangeAccountKey { get; set; } = "";
    public string Status { get; set; } = "";
    public string? ErrorReason { get; set; }
    public string UserId { get; set; } = "";
    public string UnionId { get; set; } = "";
    public string? OpenId { get; set; }

    public TargetUser User => new() { UserId = UserId, UnionId = UnionId, OpenId = OpenId };
}

/// <summary>
/// Every SQL statement about bindings. Each query is scoped by tenant; open_ids are those of the calling app.
/// A create costs two round trips (its user and admin account together, then one insert transaction); a read costs one.
/// </summary>
public sealed class BindingStore(IDatabase database)
{
    private const string BindingColumns =
        "b.id AS Id, b.exchange_binding_id AS ExchangeBindingId, b.tenant_key AS TenantKey, " +
        "b.admin_account AS AdminAccount, b.exchange_account AS ExchangeAccount, " +
        "b.exchange_account_key AS ExchangeAccountKey, b.status AS Status, b.error_reason AS ErrorReason, " +
        "b.user_id AS UserId, u.union_id AS UnionId, o.open_id AS OpenId";

    private const string BindingJoins =
        "FROM exchange_bindings b " +
        "JOIN users u ON u.tenant_key = b.tenant_key AND u.user_id = b.user_id " +
        "LEFT JOIN open_ids o ON o.app_id = @appId AND o.tenant_key = b.tenant_key AND o.user_id = b.user_id";

    /// <summary>
    /// What a create reads, in one round trip: the user it names (no row when the tenant has no such user) and the
    /// standing of the admin account it goes through (null when no such account exists).
    /// </summary>
    public async Task<CreateTargets?> FindCreateTargetsAsync(string tenantKey, string appId, UserIdType type, string id,
        string adminEmail, CancellationToken ct) =>
        await database.ReadSingleAsync(type switch
        {
            UserIdType.OpenId => FindTargetsByOpenId,
            UserIdType.UnionId => FindTargetsByUnionId,
            _ => FindTargetsByUserId,
        }, [("tenantKey", tenantKey), ("appId", appId), ("id", id), ("adminEmail", adminEmail)], ReadCreateTargets, ct);

    private static PreparedStatement FindTargetsWhere(string condition) => new(
        $"""
        SELECT u.user_id AS user_id, u.union_id AS union_id, o.open_id AS open_id, u.resigned_at AS resigned_at,
               a.tenant_key AS admin_tenant_key, a.verification_state AS admin_verification_state
        FROM users u
        LEFT JOIN open_ids o ON o.app_id = @appId AND o.tenant_key = u.tenant_key AND o.user_id = u.user_id
        LEFT JOIN exchange_admin_accounts a ON a.email = @adminEmail
        WHERE u.tenant_key = @tenantKey AND {condition}
        """);

    private static readonly PreparedStatement FindTargetsByOpenId = FindTargetsWhere("o.open_id = @id");
    private static readonly PreparedStatement FindTargetsByUnionId = FindTargetsWhere("u.union_id = @id");
    private static readonly PreparedStatement FindTargetsByUserId = FindTargetsWhere("u.user_id = @id");

    private static CreateTargets ReadCreateTargets(NamedRow row) => new(
        new TargetUser
        {
            UserId = row.String("user_id"),
            UnionId = row.String("union_id"),
            OpenId = row.NullableString("open_id"),
            ResignedAt = row.NullableInt64("resigned_at"),
        },
        AdminTenantKey: row.NullableString("admin_tenant_key"),
        AdminVerificationState: row.NullableString("admin_verification_state"));

    /// <summary>An admin account whole, credentials included (for the import worker).</summary>
    public async Task<AdminAccountRecord?> FindAdminAccountAsync(string email, CancellationToken ct) =>
        await database.ReadSingleAsync(FindAdminAccount, [("email", email)], ReadAdminAccount, ct);

    private static readonly PreparedStatement FindAdminAccount = new($"SELECT {AdminColumns} FROM exchange_admin_accounts WHERE email = @email");

    /// <summary>A row of <see cref="AdminColumns"/>, by their names (as Dapper reads them elsewhere).</summary>
    private static AdminAccountRecord ReadAdminAccount(NamedRow row) => new()
    {
        Email = row.String(nameof(AdminAccountRecord.Email)),
        TenantKey = row.String(nameof(AdminAccountRecord.TenantKey)),
        Connector = row.String(nameof(AdminAccountRecord.Connector)),
        Endpoint = row.String(nameof(AdminAccountRecord.Endpoint)),
        Username = row.String(nameof(AdminAccountRecord.Username)),
        SecretProtected = row.String(nameof(AdminAccountRecord.SecretProtected)),
        CredentialKind = row.String(nameof(AdminAccountRecord.CredentialKind)),
        GraphTenantId = row.NullableString(nameof(AdminAccountRecord.GraphTenantId)),
        GraphClientId = row.NullableString(nameof(AdminAccountRecord.GraphClientId)),
        VerificationState = row.String(nameof(AdminAccountRecord.VerificationState)),
        VerificationError = row.NullableString(nameof(AdminAccountRecord.VerificationError)),
        AllowCleartextPassword = row.Boolean(nameof(AdminAccountRecord.AllowCleartextPassword)),
    };

    internal const string AdminColumns =
        "email AS Email, tenant_key AS TenantKey, connector AS Connector, endpoint AS Endpoint, username AS Username, " +
        "secret_protected AS SecretProtected, credential_kind AS CredentialKind, graph_tenant_id AS GraphTenantId, graph_client_id AS GraphClientId, " +
        "verification_state AS VerificationState, verification_error AS VerificationError, allow_cleartext_password AS AllowCleartextPassword";

    public async Task<BindingRecord?> FindAsync(string tenantKey, string appId, string exchangeBindingId, CancellationToken ct) =>
        await database.ReadSingleAsync(FindBinding,
            [("tenantKey", tenantKey), ("appId", appId), ("exchangeBindingId", exchangeBindingId)], ReadBinding, ct);

    private static readonly PreparedStatement FindBinding = new(
        $"SELECT {BindingColumns} {BindingJoins} WHERE b.tenant_key = @tenantKey AND b.exchange_binding_id = @exchangeBindingId");

    /// <summary>A row of <see cref="BindingColumns"/>, by their names (as Dapper reads them elsewhere).</summary>
    private static BindingRecord ReadBinding(NamedRow row) => new()
    {
        Id = row.Int64(nameof(BindingRecord.Id)),
        ExchangeBindingId = row.String(nameof(BindingRecord.ExchangeBindingId)),
        TenantKey = row.String(nameof(BindingRecord.TenantKey)),
        AdminAccount = row.String(nameof(BindingRecord.AdminAccount)),
        ExchangeAccount = row.String(nameof(BindingRecord.ExchangeAccount)),
        ExchangeAccountKey = row.String(nameof(BindingRecord.ExchangeAccountKey)),
        Status = row.String(nameof(BindingRecord.Status)),
        ErrorReason = row.NullableString(nameof(BindingRecord.ErrorReason)),
        UserId = row.String(nameof(BindingRecord.UserId)),
        UnionId = row.String(nameof(BindingRecord.UnionId)),
        OpenId = row.NullableString(nameof(BindingRecord.OpenId)),
    };

    /// <summary>A binding by its internal key, for the worker (which acts for no particular app: open_id stays empty).</summary>
    public async Task<BindingRecord?> FindByKeyAsync(long bindingKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<BindingRecord>(new CommandDefinition(
            $"SELECT {BindingColumns} {BindingJoins} WHERE b.id = @bindingKey", new { bindingKey, appId = "" }, cancellationToken: ct));
    }

    /// <summary>The tenant's bindings that hold either the Exchange account or the user.</summary>
    public async Task<IReadOnlyList<BindingRecord>> FindHoldersAsync(
        string tenantKey, string appId, string exchangeAccountKey, string userId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<BindingRecord>(new CommandDefinition(
            $"""
            SELECT {BindingColumns} {BindingJoins}
            WHERE b.tenant_key = @tenantKey AND (b.exchange_account_key = @exchangeAccountKey OR b.user_id = @userId)
            """, new { tenantKey, appId, exchangeAccountKey, userId }, cancellationToken: ct))).AsList();
    }

    /// <summary>
    /// Stores a new binding and enqueues its import in the same transaction, so no binding exists without the
    /// job that will fill it. Throws the database's unique violation when the account or user is already bound.
    /// </summary>
    public Task<long> InsertWithImportJobAsync(string exchangeBindingId, string tenantKey, string adminAccount,
        string exchangeAccount, string exchangeAccountKey, string userId, string status, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, async (c, tx, token) =>
        {
            var id = Convert.ToInt64(await c.ExecuteScalarAsync(tx, InsertBinding,
            [
                ("exchangeBindingId", exchangeBindingId), ("tenantKey", tenantKey), ("adminAccount", adminAccount),
                ("exchangeAccount", exchangeAccount), ("exchangeAccountKey", exchangeAccountKey), ("userId", userId),
                ("status", status), ("now", now),
            ], token));
            await JobStore.EnqueueAsync(c, tx, id, tenantKey, JobKinds.Import, now, token);
            return id;
        }, ct);

    private static readonly PreparedStatement InsertBinding = new(
        """
        INSERT INTO exchange_bindings (exchange_binding_id, tenant_key, admin_account, exchange_account,
            exchange_account_key, user_id, status, created_at, updated_at)
        VALUES (@exchangeBindingId, @tenantKey, @adminAccount, @exchangeAccount, @exchangeAccountKey, @userId,
            @status, @now, @now)
        RETURNING id
        """);

    /// <summary>
    /// Binding a triple again whose binding is in err starts its import over: status doing, the reason cleared, its job due
    /// now. Calendars and events stay, so their ids do. False when the binding is not in err (it is answered as it stands).
    /// </summary>
    public async Task<bool> RestartErrAsync(long bindingKey, long now, CancellationToken ct)
    {
        var restarted = await database.WriteAsync(Touched.Binding(bindingKey), async (c, tx, token) =>
        {
            if (await c.ExecuteAsync(new CommandDefinition(
                    "UPDATE exchange_bindings SET status = @doing, error_reason = NULL, updated_at = @now WHERE id = @bindingKey AND status = @err",
                    new { bindingKey, now, doing = BindingStatus.Doing.ToWire(), err = BindingStatus.Err.ToWire() }, tx, cancellationToken: token)) == 0)
                return false;
            await c.ExecuteAsync(new CommandDefinition(
                "UPDATE sync_jobs SET run_at = @now, updated_at = @now WHERE binding_key = @bindingKey AND kind = @import AND state = @queued",
                new { bindingKey, now, import = JobKinds.Import, queued = JobStates.Queued }, tx, cancellationToken: token));
            return true;
        }, ct);
        return restarted;
    }

    /// <summary>
    /// Removes a binding, cancels its pending import and enqueues the clean-up of what it imported, in one
    /// transaction. False when the tenant has no such binding.
    /// </summary>
    public async Task<bool> DeleteAsync(string tenantKey, string exchangeBindingId, long now, CancellationToken ct)
    {
        var deletedKey = await database.WriteAsync(async (c, tx, token) =>
        {
            var deleted = await c.ExecuteScalarAsync(tx, DeleteBinding, [("tenantKey", tenantKey), ("exchangeBindingId", exchangeBindingId)], token);
            if (deleted is null) return (long?)null;
            var id = Convert.ToInt64(deleted);
            await c.ExecuteAsync(tx, CancelQueuedImport,
                [("id", id), ("now", now), ("import", JobKinds.Import), ("queued", JobStates.Queued), ("cancelled", JobStates.Cancelled)], token);
            await JobStore.EnqueueAsync(c, tx, id, tenantKey, JobKinds.Unbind, now, token);
            return id;
        }, static removed => removed is { } key ? Touched.Binding(key) : Touched.Nothing, ct);
        return deletedKey is not null;
    }

    private static readonly PreparedStatement DeleteBinding = new(
        "DELETE FROM exchange_bindings WHERE tenant_key = @tenantKey AND exchange_binding_id = @exchangeBindingId RETURNING id");

    private static readonly PreparedStatement CancelQueuedImport = new(
        "UPDATE sync_jobs SET state = @cancelled, updated_at = @now WHERE binding_key = @id AND kind = @import AND state = @queued");
}
