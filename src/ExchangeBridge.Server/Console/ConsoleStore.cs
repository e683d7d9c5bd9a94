using System.Text;
using Dapper;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Server.Bindings;
using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.Storage;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Console;

/// <summary>A binding as a row of the console: its status and how its sync stands (times in ms since the epoch).</summary>
public sealed class ConsoleBindingRow
{
    public long Id { get; set; }
    public string ExchangeBindingId { get; set; } = "";
    public string AdminAccount { get; set; } = "";
    public string ExchangeAccount { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Status { get; set; } = "";
    public string? ErrorReason { get; set; }
    public long CreatedAt { get; set; }
    public long? CalDoneAt { get; set; }
    public long? TimespanDoneAt { get; set; }
    public long? ImportedAt { get; set; }
    public long? LastSyncedAt { get; set; }
    public long? NextAttemptAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public bool IsLate { get; set; }
}

/// <summary>Which of a tenant's bindings the bindings page shows; null or empty filters show all.</summary>
public sealed record BindingFilter(string TenantKey, string? Status = null, string? AdminAccount = null, string? Text = null)
{
    /// <summary>Not a stored status: bindings whose sync is late (see <see cref="ConsoleStore"/>).</summary>
    public const string Late = "late";
}

/// <summary>One page of bindings in id order, and whether there are more before or after it.</summary>
public sealed record BindingPage(IReadOnlyList<ConsoleBindingRow> Rows, long Total, bool HasPrevious, bool HasNext);

public sealed class TenantStatusCount
{
    public string TenantKey { get; set; } = "";
    public string TenantName { get; set; } = "";
    public string Status { get; set; } = "";
    public long Count { get; set; }
    public long Late { get; set; }
}

public sealed class LateBinding
{
    public string TenantKey { get; set; } = "";
    public string ExchangeBindingId { get; set; } = "";
    public string ExchangeAccount { get; set; } = "";
    public string Status { get; set; } = "";
    public long? LastSyncedAt { get; set; }
    public long? NextAttemptAt { get; set; }
    public string? LastError { get; set; }
}

public sealed class FailingAdminAccount
{
    public string TenantKey { get; set; } = "";
    public string Email { get; set; } = "";
    public string? VerificationError { get; set; }
}

/// <summary>
/// The console's reads: what the operator API has no list for (pages of bindings, counts, the import rate). Writes are
/// not here: the console acts through <see cref="Admin.OperatorService"/> and <see cref="ExchangeBindingService"/>, as the
/// APIs do. A binding's sync is <b>late</b> when it is not err and its last attempt failed (it is retrying after a fault),
/// or it is done and its last sync is older than <see cref="ConsoleOptions.LateAfterSyncIntervals"/> sync intervals.
/// </summary>
public sealed class ConsoleStore(IDatabase database, TimeProvider clock, IOptions<ImportOptions> import, IOptions<ConsoleOptions> console)
{
    public const int PageSize = 50;

    private const string SyncJoin = "LEFT JOIN sync_jobs j ON j.binding_key = b.id AND j.kind = @import AND j.state = @queued";

    // Whether the binding's queued import failed is asked per binding (EXISTS on sync_jobs_binding), not read from the
    // joined job: in the counts over every binding, SQLite 3.49 answered that join with an automatic index on kind alone,
    // a scan of every job per binding (17 s for the overview at 20,000 bindings; 40 ms this way).
    private const string Late =
        "(b.status <> @err AND (EXISTS (SELECT 1 FROM sync_jobs f WHERE f.binding_key = b.id AND f.kind = @import AND f.state = @queued " +
        "AND f.last_error IS NOT NULL) OR (b.status = @done AND b.last_synced_at < @lateBefore)))";

    private const string RowColumns =
        "b.id AS Id, b.exchange_binding_id AS ExchangeBindingId, b.admin_account AS AdminAccount, " +
        "b.exchange_account AS ExchangeAccount, b.user_id AS UserId, b.status AS Status, b.error_reason AS ErrorReason, " +
        "b.created_at AS CreatedAt, b.cal_done_at AS CalDoneAt, b.timespan_done_at AS TimespanDoneAt, b.imported_at AS ImportedAt, " +
        "b.last_synced_at AS LastSyncedAt, j.run_at AS NextAttemptAt, COALESCE(j.attempts, 0) AS Attempts, j.last_error AS LastError, " +
        $"CASE WHEN {Late} THEN 1 ELSE 0 END AS IsLate";

    /// <summary>The statuses the page filters by, in the import's order, with the <see cref="BindingFilter.Late"/> pseudo-status.</summary>
    public static IReadOnlyList<string> Statuses { get; } =
        [.. Enum.GetValues<BindingStatus>().Select(s => s.ToWire()), BindingFilter.Late];

    /// <summary>One page of the tenant's bindings after <paramref name="after"/> (or before <paramref name="before"/>), in id order.</summary>
    public async Task<BindingPage> PageAsync(BindingFilter filter, long? after, long? before, CancellationToken ct)
    {
        var parameters = Parameters(new { tenantKey = filter.TenantKey });
        var where = new StringBuilder("b.tenant_key = @tenantKey");
        if (filter.Status is { Length: > 0 } status)
        {
            if (status == BindingFilter.Late) where.Append($" AND {Late}");
            else
            {
                where.Append(" AND b.status = @status");
                parameters.Add("status", status);
            }
        }
        if (filter.AdminAccount is { Length: > 0 } admin)
        {
            where.Append(" AND lower(b.admin_account) = @admin");
            parameters.Add("admin", admin.Trim().ToLowerInvariant());
        }
        if (filter.Text is { Length: > 0 } text)
        {
            where.Append(@" AND (b.exchange_account_key LIKE @text ESCAPE '\' OR b.user_id LIKE @text ESCAPE '\')");
            parameters.Add("text", "%" + text.Trim().ToLowerInvariant().Replace(@"\", @"\\").Replace("%", @"\%").Replace("_", @"\_") + "%");
        }
        var backwards = before is not null && after is null;
        var keyset = backwards ? " AND b.id < @before" : " AND b.id > @after";
        parameters.Add("after", after ?? 0);
        parameters.Add("before", before ?? 0);
        parameters.Add("limit", PageSize + 1);

        await using var c = await database.OpenAsync(ct);
        var rows = (await c.QueryAsync<ConsoleBindingRow>(new CommandDefinition(
            $"SELECT {RowColumns} FROM exchange_bindings b {SyncJoin} WHERE {where}{keyset} ORDER BY b.id {(backwards ? "DESC" : "")} LIMIT @limit",
            parameters, cancellationToken: ct))).AsList();
        var total = await c.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM exchange_bindings b {SyncJoin} WHERE {where}", parameters, cancellationToken: ct));
        var more = rows.Count > PageSize;
        if (more) rows.RemoveAt(rows.Count - 1);
        if (backwards) rows.Reverse();
        return backwards
            ? new BindingPage(rows, total, HasPrevious: more, HasNext: true)
            : new BindingPage(rows, total, HasPrevious: after is > 0, HasNext: more);
    }

    /// <summary>The tenant's bindings of the given keys as they stand now (the live view's refresh); those gone are missing.</summary>
    public async Task<IReadOnlyList<ConsoleBindingRow>> RowsAsync(string tenantKey, IReadOnlyCollection<long> keys, CancellationToken ct)
    {
        if (keys.Count == 0) return [];
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<ConsoleBindingRow>(new CommandDefinition(
            $"SELECT {RowColumns} FROM exchange_bindings b {SyncJoin} WHERE b.tenant_key = @tenantKey AND {database.InList("b.id", "@keys")}",
            Parameters(new { tenantKey, keys = database.ListArgument(keys) }), cancellationToken: ct))).AsList();
    }

    /// <summary>One binding of the tenant, by its public id.</summary>
    public async Task<ConsoleBindingRow?> FindAsync(string tenantKey, string exchangeBindingId, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ConsoleBindingRow>(new CommandDefinition(
            $"SELECT {RowColumns} FROM exchange_bindings b {SyncJoin} WHERE b.tenant_key = @tenantKey AND b.exchange_binding_id = @exchangeBindingId",
            Parameters(new { tenantKey, exchangeBindingId }), cancellationToken: ct));
    }

    /// <summary>Every tenant's bindings counted by status, with how many of each are late.</summary>
    public async Task<IReadOnlyList<TenantStatusCount>> StatusCountsAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<TenantStatusCount>(new CommandDefinition(
            $"""
            SELECT t.tenant_key AS TenantKey, t.name AS TenantName, b.status AS Status, COUNT(*) AS Count,
                   SUM(CASE WHEN {Late} THEN 1 ELSE 0 END) AS Late
            FROM exchange_bindings b JOIN tenants t ON t.tenant_key = b.tenant_key
            GROUP BY t.tenant_key, t.name, b.status ORDER BY t.name, t.tenant_key
            """, Parameters(null), cancellationToken: ct))).AsList();
    }

    /// <summary>The latest bindings to have fallen late, across tenants, the longest without a sync first.</summary>
    public async Task<IReadOnlyList<LateBinding>> LateAsync(int limit, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        var parameters = Parameters(null);
        parameters.Add("limit", limit);
        return (await c.QueryAsync<LateBinding>(new CommandDefinition(
            $"""
            SELECT b.tenant_key AS TenantKey, b.exchange_binding_id AS ExchangeBindingId, b.exchange_account AS ExchangeAccount,
                   b.status AS Status, b.last_synced_at AS LastSyncedAt, j.run_at AS NextAttemptAt, j.last_error AS LastError
            FROM exchange_bindings b {SyncJoin} WHERE {Late}
            ORDER BY COALESCE(b.last_synced_at, 0), b.id LIMIT @limit
            """, parameters, cancellationToken: ct))).AsList();
    }

    public async Task<IReadOnlyList<FailingAdminAccount>> FailingAdminAccountsAsync(CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<FailingAdminAccount>(new CommandDefinition(
            """
            SELECT tenant_key AS TenantKey, email AS Email, verification_error AS VerificationError
            FROM exchange_admin_accounts WHERE verification_state = @failed ORDER BY tenant_key, email
            """, new { failed = AdminAccountStates.Failed }, cancellationToken: ct))).AsList();
    }

    /// <summary>Events imported or updated in each of the last 60 minutes, oldest first (index 59 is the current minute).</summary>
    public async Task<long[]> EventsPerMinuteAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var since = now - now % 60_000 - 59 * 60_000;
        await using var c = await database.OpenAsync(ct);
        var counts = await c.QueryAsync<(long Minute, long Count)>(new CommandDefinition(
            "SELECT (updated_at - @since) / 60000 AS minute, COUNT(*) AS count FROM events WHERE updated_at >= @since GROUP BY (updated_at - @since) / 60000",
            new { since }, cancellationToken: ct));
        var perMinute = new long[60];
        foreach (var (minute, count) in counts)
            if (minute is >= 0 and < 60) perMinute[minute] = count;
        return perMinute;
    }

    /// <summary>The parameters every query of the late rule takes, with <paramref name="values"/>.</summary>
    private DynamicParameters Parameters(object? values)
    {
        var parameters = new DynamicParameters(values);
        parameters.Add("import", JobKinds.Import);
        parameters.Add("queued", JobStates.Queued);
        parameters.Add("err", BindingStatus.Err.ToWire());
        parameters.Add("done", BindingStatus.Done.ToWire());
        parameters.Add("lateBefore", clock.GetUtcNow().ToUnixTimeMilliseconds() -
            1000L * import.Value.SyncIntervalSeconds * console.Value.LateAfterSyncIntervals);
        return parameters;
    }
}
