using System.Data.Common;
using Dapper;
using ExchangeBridge.Core.Bindings;

namespace ExchangeBridge.Server.Storage;

public static class JobKinds
{
    /// <summary>Import a binding's calendars, then keep them in sync.</summary>
    public const string Import = "import";
    /// <summary>Remove what an unbound binding imported.</summary>
    public const string Unbind = "unbind";
}

public static class JobStates
{
    public const string Queued = "queued";
    public const string Done = "done";
    public const string Cancelled = "cancelled";
}

public sealed class JobRecord
{
    public long Id { get; set; }
    public long BindingKey { get; set; }
    public string TenantKey { get; set; } = "";
    public string Kind { get; set; } = "";
    /// <summary>Attempts since the last success, this one included.</summary>
    public int Attempts { get; set; }
    /// <summary>Unexpected failures in a row before this attempt.</summary>
    public int UnexpectedFailures { get; set; }
    public string LeaseOwner { get; set; } = "";
    /// <summary>This claim's own token: what renews and releases the lease, so that a later claim of the job, of the same instance included, is never taken for this one.</summary>
    public string LeaseClaim { get; set; } = "";
}

/// <summary>
/// How many jobs may run at once: of one tenant on this instance (<paramref name="PerTenant"/>); of one admin account
/// over every instance, its limit as Exchange last admitted it (exchange_admin_accounts.import_limit, halved on a
/// refusal) grown by one job every <paramref name="GrowMs"/>, never above its connector's ceiling.
/// </summary>
public sealed record ClaimLimits(int PerTenant, int PerEwsAdminAccount, int PerGraphAdminAccount, long GrowMs);

/// <summary>
/// The durable work queue: rows in the same database as the bindings, each leased by one worker at a time. A worker
/// that dies leaves its lease to run out; the job is then claimed again, and every step being idempotent, the retry
/// repeats nothing visible.
/// </summary>
public sealed class JobStore(IDatabase database)
{
    public static Task EnqueueAsync(DbConnection c, DbTransaction tx, long bindingKey, string tenantKey, string kind, long now,
        CancellationToken ct) =>
        c.ExecuteAsync(tx, Enqueue,
            [("bindingKey", bindingKey), ("tenantKey", tenantKey), ("kind", kind), ("queued", JobStates.Queued), ("now", now)], ct);

    private static readonly PreparedStatement Enqueue = new(
        """
        INSERT INTO sync_jobs (binding_key, tenant_key, kind, state, run_at, attempts, created_at, updated_at)
        VALUES (@bindingKey, @tenantKey, @kind, @queued, @now, 0, @now, @now)
        """);

    /// <summary>
    /// Leases a due job whose lease is free, or null when none may run now. Fair across tenants: among due jobs, those of
    /// the tenant served longest ago go first (then the most overdue), and none of a tenant that already runs its cap of
    /// jobs here, so one tenant whose Exchange hangs cannot hold every worker, nor of an admin account that runs as many as
    /// Exchange admits (<see cref="ClaimLimits"/>), nor of one of <paramref name="saturatedAdminAccounts"/> (emails), whose
    /// connections this instance has all out with requests waiting: a job claimed for it would only wait behind them.
    /// <para>Where writers run side by side (PostgreSQL) the pick and the take are one statement that passes over the jobs
    /// other workers are taking (<see cref="IDatabase.SkipLockedRowsOf"/>): each idle worker, of every instance, takes a
    /// different job instead of all queueing on the first one's row lock. Where writers take turns (SQLite) the candidate
    /// is picked by a read, off the writer, and the take checks the same rules (<see cref="_claimable"/>) again for that one
    /// job; if another worker was quicker, the next candidate is picked.</para>
    /// </summary>
    public async Task<JobRecord?> TryClaimAsync(string owner, long now, long leaseMs, ClaimLimits limits,
        IReadOnlyCollection<string> saturatedAdminAccounts, CancellationToken ct)
    {
        var saturated = database.ListArgument(saturatedAdminAccounts);
        if (database.SkipLockedRowsOf("j") is { } skipLocked)
            return await database.WriteAsync(Touched.Nothing, (c, tx, token) => TakeAsync(c, tx,
                $"(SELECT j.id {_claimable} ORDER BY {ClaimOrder} LIMIT 1 {skipLocked})",
                ClaimParameters(null, owner, now, leaseMs, limits, saturated), now, token), ct);

        for (var tries = 0; tries < 3; tries++)
        {
            long? candidate;
            await using (var c = await database.OpenAsync(ct))
                candidate = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
                    $"SELECT j.id {_claimable} ORDER BY {ClaimOrder} LIMIT 1",
                    ClaimParameters(null, owner, now, leaseMs, limits, saturated), cancellationToken: ct));
            if (candidate is not { } id) return null;
            var claimed = await database.WriteAsync(Touched.Nothing, (c, tx, token) =>
                TakeAsync(c, tx, $"@id AND id = (SELECT j.id {_claimable} AND j.id = @id)",
                    ClaimParameters(id, owner, now, leaseMs, limits, saturated), now, token), ct);
            if (claimed is not null) return claimed;
        }
        return null;
    }

    /// <summary>
    /// Among the jobs that may be claimed: the tenant served longest ago first, then the job that has had the fewest turns
    /// in its import (<see cref="EndTurnAsync"/>: a new binding before one halfway through a large mailbox, as a processor
    /// shared equally would serve them), then the most overdue.
    /// </summary>
    private const string ClaimOrder = "t.last_claimed_at, j.turns, j.run_at, j.id";

    /// <summary>
    /// Leases the job <paramref name="pick"/> names (an SQL expression over the claim's parameters) if it is still due
    /// with a free lease, and marks its tenant served. <see cref="Due"/> is stated on the row updated, not only in the
    /// pick: on PostgreSQL a take that waited on a row another take had just leased re-checks, once that one commits, the
    /// conditions on the updated row, while a subquery keeps the answer it read before; without it both takes win.
    /// </summary>
    private static async Task<JobRecord?> TakeAsync(DbConnection c, DbTransaction tx, string pick, object parameters, long now, CancellationToken ct)
    {
        var job = await c.QuerySingleOrDefaultAsync<JobRecord>(new CommandDefinition(
            $"""
            UPDATE sync_jobs SET lease_owner = @owner, lease_claim = @claim, lease_expires_at = @leaseUntil, attempts = attempts + 1,
                updated_at = @now
            WHERE id = {pick} AND {Due("sync_jobs")}
            RETURNING id AS Id, binding_key AS BindingKey, tenant_key AS TenantKey, kind AS Kind, attempts AS Attempts,
                      unexpected_failures AS UnexpectedFailures, lease_owner AS LeaseOwner, lease_claim AS LeaseClaim
            """, parameters, tx, cancellationToken: ct));
        if (job is not null)
            await c.ExecuteAsync(new CommandDefinition("UPDATE tenants SET last_claimed_at = @now WHERE tenant_key = @TenantKey",
                new { now, job.TenantKey }, tx, cancellationToken: ct));
        return job;
    }

    private static object ClaimParameters(long? id, string owner, long now, long leaseMs, ClaimLimits limits, object saturated) => new
    {
        id, owner, saturated, claim = Guid.NewGuid().ToString("N"), now, leaseUntil = now + leaseMs, limits.PerTenant,
        limits.PerEwsAdminAccount, limits.PerGraphAdminAccount, limits.GrowMs, graph = Admin.AdminAccounts.Graph, queued = JobStates.Queued,
    };

    /// <summary>
    /// The jobs that may be claimed now (FROM … WHERE, over <c>j</c>, its tenant <c>t</c>): queued, due, with no live lease,
    /// of a tenant that runs fewer jobs here than its cap, and of an admin account that runs fewer over every instance than
    /// its limit (<see cref="AdminAccountLimit"/>; an account no longer registered counts as a limit of one, so that its
    /// jobs still run and say so; an unbind's job, whose binding is gone, asks Exchange nothing and is not limited) and is
    /// not one of those saturated here (@saturated). The jobs running are counted once per tenant and per admin account (a
    /// grouped read of the few leased rows, through sync_jobs_leased) rather than again for every queued job: when an
    /// organisation's bindings wait behind their admin account's limit, every look for work went through all of them.
    /// </summary>
    private readonly string _claimable =
        $"""
        FROM sync_jobs j
        LEFT JOIN tenants t ON t.tenant_key = j.tenant_key
        LEFT JOIN exchange_bindings b ON b.id = j.binding_key
        LEFT JOIN exchange_admin_accounts a ON a.email = lower(trim(b.admin_account)) AND a.tenant_key = b.tenant_key
        LEFT JOIN (SELECT r.tenant_key, COUNT(*) AS n FROM sync_jobs r
                   WHERE r.lease_expires_at >= @now AND r.lease_owner = @owner GROUP BY r.tenant_key) here ON here.tenant_key = j.tenant_key
        LEFT JOIN (SELECT rb.tenant_key, rb.admin_account, COUNT(*) AS n FROM sync_jobs r JOIN exchange_bindings rb ON rb.id = r.binding_key
                   WHERE r.lease_expires_at >= @now GROUP BY rb.tenant_key, rb.admin_account) account
               ON account.tenant_key = b.tenant_key AND account.admin_account = b.admin_account
        WHERE {Due("j")}
          AND COALESCE(here.n, 0) < @PerTenant
          AND (b.id IS NULL OR COALESCE(account.n, 0) < COALESCE({AdminAccountLimit("a")}, 1))
          AND (a.email IS NULL OR {database.NotInList("a.email", "@saturated")})
        """;

    /// <summary>Queued, due, and with no live lease (stated on the row a take updates: <see cref="TakeAsync"/>).</summary>
    private static string Due(string job) =>
        $"{job}.state = @queued AND {job}.run_at <= @now AND ({job}.lease_expires_at IS NULL OR {job}.lease_expires_at < @now)";

    /// <summary>Jobs leased now, on any instance, of the bindings of one admin account (as the bindings spell it).</summary>
    private static string RunningOfAdminAccount(string tenantKey, string adminAccount) =>
        $"""
        (SELECT COUNT(*) FROM sync_jobs r JOIN exchange_bindings rb ON rb.id = r.binding_key
         WHERE r.lease_expires_at >= @now AND rb.tenant_key = {tenantKey} AND rb.admin_account = {adminAccount})
        """;

    /// <summary>
    /// An admin account's limit now: its connector's ceiling, or, since Exchange last refused it, the limit set then grown
    /// by one job every @GrowMs (integer division on both databases), up to the ceiling. Computed, not stored, so growing
    /// back costs no write.
    /// </summary>
    private static string AdminAccountLimit(string a)
    {
        var ceiling = $"(CASE WHEN {a}.connector = @graph THEN @PerGraphAdminAccount ELSE @PerEwsAdminAccount END)";
        var grown = $"({a}.import_limit + (@now - {a}.import_limit_at) / @GrowMs)";
        return $"(CASE WHEN {a}.import_limit IS NULL OR {grown} >= {ceiling} THEN {ceiling} ELSE {grown} END)";
    }

    /// <summary>
    /// Exchange refused an admin account for concurrency: its limit becomes half the jobs it runs now, at least one, so the
    /// account backs off whatever else shares it. While more jobs run than the limit (they started before it was lowered)
    /// a refusal is the same congestion, not news, and changes nothing; once they have drained to the limit and Exchange
    /// still refuses, the limit halves again (TCP's one decrease per round trip). Returns the new limit, or null when it
    /// was left alone.
    /// </summary>
    public Task<int?> AdminAccountRefusedAsync(string tenantKey, string adminAccount, long now, ClaimLimits limits, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(
            $"""
            WITH running AS MATERIALIZED (SELECT {RunningOfAdminAccount("@tenantKey", "@adminAccount")} AS n)
            UPDATE exchange_admin_accounts
            SET import_limit = (SELECT CASE WHEN n < 2 THEN 1 ELSE n / 2 END FROM running), import_limit_at = @now
            WHERE email = lower(trim(@adminAccount)) AND tenant_key = @tenantKey
              AND (SELECT n FROM running) <= {AdminAccountLimit("exchange_admin_accounts")}
            RETURNING import_limit
            """, new
            {
                tenantKey, adminAccount, now, limits.PerEwsAdminAccount, limits.PerGraphAdminAccount, limits.GrowMs, graph = Admin.AdminAccounts.Graph,
            }, tx, cancellationToken: token)), ct);

    /// <summary>
    /// The job's row while the run's claim still holds its lease and the job is not cancelled (an unbind cancels the row and
    /// leaves its claim): the only row a run may extend, or end by sending it back to the queue. A run that lost it (taken
    /// over, or its binding unbound) changes nothing, so it neither takes the job back nor brings a cancelled job back.
    /// </summary>
    private const string HeldByThisRun = "id = @Id AND lease_claim = @LeaseClaim AND state = @queued";

    /// <summary>Extends a lease the worker still holds; false when it was lost (taken over, or the job cancelled).</summary>
    public async Task<bool> RenewAsync(JobRecord job, long now, long leaseMs, CancellationToken ct) =>
        await database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE sync_jobs SET lease_expires_at = @leaseUntil, updated_at = @now
            WHERE {HeldByThisRun}
            """, new { job.Id, job.LeaseClaim, now, leaseUntil = now + leaseMs, queued = JobStates.Queued }, tx, cancellationToken: token)), ct) == 1;

    /// <summary>
    /// A sync that went through: the job runs again at <paramref name="runAt"/> with its failure counts, last error and
    /// turns cleared, and the binding records when it was last in sync, in one transaction. Only while the run holds the job
    /// (<see cref="HeldByThisRun"/>): a run that lost it has not synced what the job stands for now.
    /// </summary>
    public Task SyncedAsync(JobRecord job, long runAt, long now, CancellationToken ct) =>
        database.WriteAsync(async (c, tx, token) =>
        {
            var held = await c.ExecuteAsync(new CommandDefinition(
                $"""
                UPDATE sync_jobs SET state = @queued, run_at = @runAt, lease_owner = NULL, lease_claim = NULL, lease_expires_at = NULL,
                    attempts = 0, unexpected_failures = 0, last_error = NULL, last_error_at = NULL, turns = 0, updated_at = @now
                WHERE {HeldByThisRun}
                """, new { job.Id, job.LeaseClaim, runAt, now, queued = JobStates.Queued }, tx, cancellationToken: token)) == 1;
            if (held)
                await c.ExecuteAsync(new CommandDefinition("UPDATE exchange_bindings SET last_synced_at = @now WHERE id = @BindingKey",
                    new { job.BindingKey, now }, tx, cancellationToken: token));
            return held;
        }, held => held ? Touched.Binding(job.BindingKey) : Touched.Nothing, ct);

    /// <summary>
    /// The run ended its turn with work left (<see cref="Import.ImportOptions.TurnMilliseconds"/>, while others were due):
    /// the job is due again now, behind those, with one more turn; what it imported is committed page by page, so the next
    /// claim goes on from there. Its failure counts are cleared, as after a sync: it made progress. Only while the run holds
    /// the job (<see cref="HeldByThisRun"/>).
    /// </summary>
    public Task EndTurnAsync(JobRecord job, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE sync_jobs SET state = @queued, run_at = @now, lease_owner = NULL, lease_claim = NULL, lease_expires_at = NULL,
                turns = turns + 1, attempts = 0, unexpected_failures = 0, last_error = NULL, last_error_at = NULL, updated_at = @now
            WHERE {HeldByThisRun}
            """, new { job.Id, job.LeaseClaim, now, queued = JobStates.Queued }, tx, cancellationToken: token)), ct);

    /// <summary>
    /// Whether any job but <paramref name="job"/> is due with a free lease, on any instance: whether a run that has had its
    /// turn should hand its place back. A job due but held back by a limit counts too; if it cannot take the place, the
    /// job that gave it up is the first that can and takes it again.
    /// </summary>
    public async Task<bool> OthersDueAsync(JobRecord job, long now, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            $"SELECT 1 FROM sync_jobs j WHERE {Due("j")} AND j.id <> @Id LIMIT 1",
            new { job.Id, now, queued = JobStates.Queued }, cancellationToken: ct)) is not null;
    }

    /// <summary>Whether the job was cancelled: its binding was unbound (<see cref="BindingStore.DeleteAsync"/>).</summary>
    public async Task<bool> IsCancelledAsync(JobRecord job, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.ExecuteScalarAsync<string?>(new CommandDefinition("SELECT state FROM sync_jobs WHERE id = @Id", new { job.Id },
            cancellationToken: ct)) == JobStates.Cancelled;
    }

    /// <summary>
    /// A failed attempt: the job runs again at <paramref name="runAt"/>, with the error and when it happened; an
    /// <paramref name="unexpected"/> failure adds to the count that bounds them, any other ends that count. Only while the
    /// run holds the job (<see cref="HeldByThisRun"/>).
    /// </summary>
    public Task RetryLaterAsync(JobRecord job, long runAt, string error, bool unexpected, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE sync_jobs SET state = @queued, run_at = @runAt, lease_owner = NULL, lease_claim = NULL, lease_expires_at = NULL,
                unexpected_failures = CASE WHEN @unexpected THEN unexpected_failures + 1 ELSE 0 END,
                last_error = @error, last_error_at = @now, updated_at = @now
            WHERE {HeldByThisRun}
            """, new { job.Id, job.LeaseClaim, runAt, error, unexpected, now, queued = JobStates.Queued }, tx, cancellationToken: token)), ct);

    /// <summary>
    /// Runs the tenant's imports that wait on a failure now: those of bindings in err, and those retrying after a fault
    /// (a last error), narrowed to one binding or to one admin account's bindings. A job running right now is left to
    /// finish. Returns how many were moved.
    /// </summary>
    public Task<int> RetryNowAsync(string tenantKey, long? bindingKey, string? adminEmail, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE sync_jobs SET run_at = @now, updated_at = @now
            WHERE tenant_key = @tenantKey AND kind = @import AND state = @queued AND lease_owner IS NULL
              AND binding_key IN (
                SELECT b.id FROM exchange_bindings b
                WHERE b.tenant_key = @tenantKey AND (@bindingKey IS NULL OR b.id = @bindingKey)
                  AND (@adminEmail IS NULL OR lower(b.admin_account) = @adminEmail))
              AND (last_error IS NOT NULL OR binding_key IN (SELECT id FROM exchange_bindings WHERE tenant_key = @tenantKey AND status = @err))
            """, new
            {
                tenantKey, bindingKey, adminEmail, now, import = JobKinds.Import, queued = JobStates.Queued, err = BindingStatus.Err.ToWire(),
            }, tx, cancellationToken: token)), ct);

    public Task CompleteAsync(JobRecord job, long now, CancellationToken ct) => FinishAsync(job, JobStates.Done, now, ct);

    public Task CancelAsync(JobRecord job, long now, CancellationToken ct) => FinishAsync(job, JobStates.Cancelled, now, ct);

    private Task FinishAsync(JobRecord job, string state, long now, CancellationToken ct) =>
        database.WriteAsync(Touched.Nothing, (c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE sync_jobs SET state = @state, lease_owner = NULL, lease_claim = NULL, lease_expires_at = NULL, updated_at = @now
            WHERE id = @Id AND lease_claim = @LeaseClaim
            """, new { job.Id, job.LeaseClaim, state, now }, tx, cancellationToken: token)), ct);

    /// <summary>How a binding's sync stands: when it last went through, and its import's failures since then and next attempt.</summary>
    public async Task<SyncView> FindSyncAsync(long bindingKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<SyncView>(new CommandDefinition(
            """
            SELECT b.last_synced_at AS LastSyncedAt, j.run_at AS NextAttemptAt, COALESCE(j.attempts, 0) AS Attempts,
                   j.last_error AS LastError, j.last_error_at AS LastErrorAt
            FROM exchange_bindings b
            LEFT JOIN sync_jobs j ON j.binding_key = b.id AND j.kind = @import AND j.state = @queued
            WHERE b.id = @bindingKey
            """, new { bindingKey, import = JobKinds.Import, queued = JobStates.Queued }, cancellationToken: ct)) ?? new SyncView();
    }

    public async Task<IReadOnlyList<JobView>> ListForBindingAsync(long bindingKey, CancellationToken ct)
    {
        await using var c = await database.OpenAsync(ct);
        return (await c.QueryAsync<JobView>(new CommandDefinition(
            """
            SELECT id AS Id, kind AS Kind, state AS State, attempts AS Attempts, run_at AS RunAt, last_error AS LastError,
                   lease_owner AS LeaseOwner
            FROM sync_jobs WHERE binding_key = @bindingKey ORDER BY id
            """, new { bindingKey }, cancellationToken: ct))).AsList();
    }
}

public sealed class JobView
{
    public long Id { get; set; }
    public string Kind { get; set; } = "";
    public string State { get; set; } = "";
    public int Attempts { get; set; }
    public long RunAt { get; set; }
    public string? LastError { get; set; }
    public string? LeaseOwner { get; set; }
}

public sealed class SyncView
{
    public long? LastSyncedAt { get; set; }
    public long? NextAttemptAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public long? LastErrorAt { get; set; }
}
