using System.Data.Common;
using Dapper;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// PostgreSQL, for several instances on one database: pooled connections from one data source, migrations serialised
/// by an advisory lock, and what each write touched sent to every instance with <c>pg_notify</c> in the write's own
/// transaction (delivered only if it commits).
/// </summary>
public sealed class PostgresDatabase : IDatabase, IDisposable
{
    private const long MigrationLockKey = 0x45784272696467; // "ExBridg"
    private static readonly PreparedStatement Notify = new($"SELECT pg_notify('{PostgresChangeListener.Channel}', @payload)");
    private readonly Npgsql.NpgsqlDataSource _source;
    private readonly PostgresChangeListener _listener;

    /// <param name="changeChannelLog">Where a lost and regained change channel is told (every cache goes quiet meanwhile).</param>
    public PostgresDatabase(string connectionString, Microsoft.Extensions.Logging.ILogger? changeChannelLog = null)
    {
        _source = Npgsql.NpgsqlDataSource.Create(WithAutoPrepare(connectionString));
        // Caches answer only once this instance hears the others (the listener says so when its LISTEN is in place).
        Changes = new ChangeFeed(hearsEveryWrite: false);
        _listener = new PostgresChangeListener(connectionString, InstanceId, Changes, changeChannelLog);
    }

    /// <summary>Names this instance in its notifications, so it does not act twice on its own writes.</summary>
    internal string InstanceId { get; } = Guid.NewGuid().ToString("N");

    public ChangeFeed Changes { get; }

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
    public object ListArgument(IReadOnlyCollection<string> values) => values.ToArray();
    public object ListArgument(IReadOnlyCollection<long> values) => values.ToArray();
    public int RowsPerStatement(int overNetwork) => overNetwork;
    public string JoinedTexts(string expression, string separator) => $"string_agg({expression}, {separator})";
    public string Character(char character) => $"chr({(int)character})";
    public string? SkipLockedRowsOf(string alias) => $"FOR UPDATE OF {alias} SKIP LOCKED";

    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default) =>
        await _source.OpenConnectionAsync(cancellationToken);

    // Each writer its own transaction: PostgreSQL runs writers side by side (rows, not the database, are locked), commits
    // side by side and groups WAL flushes itself.
    public Task<T> WriteAsync<T>(Touched touched, WriteWork<T> work, CancellationToken cancellationToken = default) =>
        WriteAsync(work, touched, null, cancellationToken);

    public Task<T> WriteAsync<T>(WriteWork<T> work, Func<T, Touched> touchedBy, CancellationToken cancellationToken = default) =>
        WriteAsync(work, Touched.Nothing, touchedBy, cancellationToken);

    private async Task<T> WriteAsync<T>(WriteWork<T> work, Touched touched, Func<T, Touched>? touchedBy, CancellationToken cancellationToken)
    {
        NestedWrites.ThrowIfInsideWrite();
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        NestedWrites.Enter();
        var result = await work(connection, transaction, cancellationToken);
        if (touchedBy is not null) touched = touchedBy(result);
        // Only a change some cache holds costs the extra statement: creates, deletes and reads of bindings send nothing.
        if ((touched.Kinds & Changes.Held) != 0)
            await connection.ExecuteAsync(transaction, Notify, [("payload", InstanceId + " " + touched.ToPayload())], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Changes.Announce(touched);
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

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        await _source.DisposeAsync();
    }
}
