using System.Data.Common;
using Dapper;

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
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

public sealed class JobRecord
{
    public long Id { get; set; }
    public long BindingKey { get; set; }
    public string TenantKey { get; set; } = "";
    public string Kind { get; set; } = "";
    public int Attempts { get; set; }
    public string LeaseOwner { get; set; } = "";
}

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

    /// <summary>Leases the most overdue job whose lease is free, or null when none is due.</summary>
    public Task<JobRecord?> TryClaimAsync(string owner, long now, long leaseMs, CancellationToken ct) =>
        database.WriteAsync((c, tx, token) => c.QuerySingleOrDefaultAsync<JobRecord?>(new CommandDefinition(
            $"""
            UPDATE sync_jobs SET lease_owner = @owner, lease_expires_at = @leaseUntil, attempts = attempts + 1, updated_at = @now
            WHERE id = (
                SELECT id FROM sync_jobs
                WHERE state = @queued AND run_at <= @now AND (lease_expires_at IS NULL OR lease_expires_at < @now)
                ORDER BY run_at, id LIMIT 1 {database.SkipLockedClause})
              AND state = @queued AND (lease_expires_at IS NULL OR lease_expires_at < @now)
            RETURNING id AS Id, binding_key AS BindingKey, tenant_key AS TenantKey, kind AS Kind, attempts AS Attempts,
                      lease_owner AS LeaseOwner
            """, new { owner, now, leaseUntil = now + leaseMs, queued = JobStates.Queued }, tx, cancellationToken: token)), ct);

    /// <summary>Extends a lease the worker still holds; false when it was lost (taken over, or the job cancelled).</summary>
    public async Task<bool> RenewAsync(JobRecord job, long now, long leaseMs, CancellationToken ct) =>
        await database.WriteAsync((c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE sync_jobs SET lease_expires_at = @leaseUntil, updated_at = @now
            WHERE id = @Id AND lease_owner = @LeaseOwner AND state = @queued
            """, new { job.Id, job.LeaseOwner, now, leaseUntil = now + leaseMs, queued = JobStates.Queued }, tx, cancellationToken: token)), ct) == 1;

    /// <summary>Releases the lease and runs the job again at <paramref name="runAt"/>.</summary>
    public Task RescheduleAsync(JobRecord job, long runAt, bool resetAttempts, string? lastError, long now, CancellationToken ct) =>
        FinishAsync(job, JobStates.Queued, runAt, resetAttempts, lastError, now, ct);

    public Task CompleteAsync(JobRecord job, long now, CancellationToken ct) =>
        FinishAsync(job, JobStates.Done, now, false, null, now, ct);

    public Task FailAsync(JobRecord job, string reason, long now, CancellationToken ct) =>
        FinishAsync(job, JobStates.Failed, now, false, reason, now, ct);

    public Task CancelAsync(JobRecord job, long now, CancellationToken ct) =>
        FinishAsync(job, JobStates.Cancelled, now, false, null, now, ct);

    private Task FinishAsync(JobRecord job, string state, long runAt, bool resetAttempts, string? lastError, long now,
        CancellationToken ct) =>
        database.WriteAsync((c, tx, token) => c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE sync_jobs SET state = @state, run_at = @runAt, lease_owner = NULL, lease_expires_at = NULL,
                attempts = CASE WHEN @resetAttempts THEN 0 ELSE attempts END,
                last_error = COALESCE(@lastError, last_error), updated_at = @now
            WHERE id = @Id AND lease_owner = @LeaseOwner
            """, new { job.Id, job.LeaseOwner, state, runAt, resetAttempts, lastError, now }, tx, cancellationToken: token)), ct);

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
