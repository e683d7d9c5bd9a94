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

/// <summary>The durable work queue's SQL: rows in the same database as the bindings.</summary>
public static class JobStore
{
    public static Task EnqueueAsync(DbConnection c, DbTransaction tx, long bindingKey, string tenantKey, string kind, long now,
        CancellationToken ct) =>
        c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO sync_jobs (binding_key, tenant_key, kind, state, run_at, attempts, created_at, updated_at)
            VALUES (@bindingKey, @tenantKey, @kind, 'queued', @now, 0, @now, @now)
            """, new { bindingKey, tenantKey, kind, now }, tx, cancellationToken: ct));
}
