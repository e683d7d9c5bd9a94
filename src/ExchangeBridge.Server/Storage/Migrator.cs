using System.Reflection;
using Dapper;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// Applies the embedded SQL files of the database's dialect that have not run yet, in order. Callers hold the
/// migration lock (<see cref="IDatabase.AcquireMigrationLockAsync"/>), so racing instances apply each file once.
/// </summary>
public static class Migrator
{
    public static async Task MigrateAsync(IDatabase database, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)");
        var applied = (await connection.QueryAsync<string>("SELECT version FROM schema_migrations")).ToHashSet();

        var assembly = Assembly.GetExecutingAssembly();
        var prefix = $"ExchangeBridge.Server.Storage.Migrations.{database.Dialect}.";
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix)).Order())
        {
            var version = resource[prefix.Length..^".sql".Length];
            if (applied.Contains(version)) continue;
            await using var stream = assembly.GetManifestResourceStream(resource)!;
            var sql = await new StreamReader(stream).ReadToEndAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(sql, transaction: transaction);
            await connection.ExecuteAsync(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @now)",
                new { version, now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() }, transaction);
            await transaction.CommitAsync(cancellationToken);
        }
    }
}
