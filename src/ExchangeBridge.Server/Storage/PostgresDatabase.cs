using System.Data.Common;
using Dapper;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// PostgreSQL, for several instances on one database: pooled connections from one data source, job claims that skip
/// rows other instances hold, migrations serialised by an advisory lock.
/// </summary>
public sealed class PostgresDatabase(string connectionString) : IDatabase, IDisposable
{
    private const long MigrationLockKey = 0x45784272696467; // "ExBridg"
    private readonly Npgsql.NpgsqlDataSource _source = Npgsql.NpgsqlDataSource.Create(connectionString);

    public string Dialect => "Postgres";

    public string SkipLockedClause => "FOR UPDATE SKIP LOCKED";
    public string InList(string column, string listParameter) => $"{column} = ANY({listParameter})";
    public string NotInList(string column, string listParameter) => $"{column} <> ALL({listParameter})";

    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default) =>
        await _source.OpenConnectionAsync(cancellationToken);

    // PostgreSQL runs writers side by side; rows, not the database, are locked.
    public ValueTask<DbConnection> OpenWriterAsync(CancellationToken cancellationToken = default) => OpenAsync(cancellationToken);

    // Each writer its own transaction: PostgreSQL commits side by side (and groups WAL flushes itself).
    public async Task<T> WriteAsync<T>(WriteWork<T> work, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var result = await work(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public async ValueTask<T?> ReadSingleAsync<T>(PreparedStatement query, object?[] values, RowReader<T> map,
        CancellationToken cancellationToken = default) where T : class
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var command = query.NewCommand(connection);
        query.Bind(command.Parameters, values);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? map(reader) : null;
    }

    public bool IsUniqueViolation(Exception exception) =>
        exception is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation };

    public bool IsContention(Exception exception) =>
        exception is Npgsql.PostgresException { SqlState: "40001" or "40P01" or "55P03" };

    public async Task<IAsyncDisposable> AcquireMigrationLockAsync(CancellationToken cancellationToken)
    {
        var connection = await _source.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = MigrationLockKey },
            cancellationToken: cancellationToken));
        return new AdvisoryLock(connection);
    }

    /// <summary>A session-level advisory lock: released explicitly, since a pooled connection's session outlives its Close.</summary>
    private sealed class AdvisoryLock(Npgsql.NpgsqlConnection connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = MigrationLockKey });
            await connection.DisposeAsync();
        }
    }

    public void Dispose() => _source.Dispose();
}
