using System.Data.Common;
using Dapper;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// PostgreSQL, for several instances on one database: pooled connections from one data source, migrations serialised
/// by an advisory lock.
/// </summary>
public sealed class PostgresDatabase(string connectionString) : IDatabase, IDisposable
{
    private const long MigrationLockKey = 0x45784272696467; // "ExBridg"
    private readonly Npgsql.NpgsqlDataSource _source = Npgsql.NpgsqlDataSource.Create(WithAutoPrepare(connectionString));

    /// <summary>Statements Npgsql keeps prepared per connection unless the operator says otherwise: every statement we run, with room.</summary>
    internal const int AutoPreparedStatements = 64;

    /// <summary>
    /// Prepared statements are the driver's business: Npgsql prepares a statement once it has run a few times on a
    /// connection (Max Auto Prepare), so nothing here keeps its own. An operator's own setting, 0 included, stands.
    /// </summary>
    internal static string WithAutoPrepare(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.ContainsKey("Max Auto Prepare") || given.ContainsKey("MaxAutoPrepare")) return connectionString;
        return new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = AutoPreparedStatements }.ConnectionString;
    }

    public string Dialect => "Postgres";

    public string InList(string column, string listParameter) => $"{column} = ANY({listParameter})";
    public string NotInList(string column, string listParameter) => $"{column} <> ALL({listParameter})";

    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default) =>
        await _source.OpenConnectionAsync(cancellationToken);

    // Each writer its own transaction: PostgreSQL runs writers side by side (rows, not the database, are locked), commits
    // side by side and groups WAL flushes itself.
    public async Task<T> WriteAsync<T>(WriteWork<T> work, CancellationToken cancellationToken = default)
    {
        NestedWrites.ThrowIfInsideWrite();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        NestedWrites.Enter();
        var result = await work(connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    public async ValueTask<T?> ReadSingleAsync<T>(PreparedStatement query, SqlArgument[] values, RowReader<T> map,
        CancellationToken cancellationToken = default) where T : class
    {
        await using var connection = await _source.OpenConnectionAsync(cancellationToken);
        await using var command = query.NewCommand(connection);
        query.Bind(command.Parameters, values);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? map(new NamedRow(reader, query.ColumnsOf(reader))) : null;
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

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
