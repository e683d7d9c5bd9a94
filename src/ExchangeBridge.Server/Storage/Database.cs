using System.Data.Common;
using System.Reflection;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// Where the data lives. Hands out open connections and applies the schema history at start-up. SQLite in the
/// data folder is the embedded default.
/// </summary>
public interface IDatabase
{
    /// <summary>A connection for reads, or for a single statement.</summary>
    ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// A connection for a write transaction. Where the database admits one writer at a time (SQLite), writers queue
    /// here, in memory, until the connection is disposed, instead of sleeping in the database's busy handler.
    /// </summary>
    ValueTask<DbConnection> OpenWriterAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and answers once it is committed. Where writers take turns
    /// (SQLite) the works that queue meanwhile share one transaction (<see cref="GroupCommit"/>), each in its own savepoint.
    /// </summary>
    Task<T> WriteAsync<T>(WriteWork<T> work, CancellationToken cancellationToken = default);

    /// <summary>
    /// The first row of a hot-path read mapped by <paramref name="map"/>, or null: one round trip, the statement prepared
    /// once per connection where the driver would otherwise prepare it on every call.
    /// </summary>
    ValueTask<T?> ReadSingleAsync<T>(PreparedStatement query, object?[] values, RowReader<T> map, CancellationToken cancellationToken = default)
        where T : class;

    /// <summary>Dialect name, which picks the migration folder: "Sqlite" or "Postgres".</summary>
    string Dialect { get; }

    /// <summary>True when the exception is a violated unique or primary key.</summary>
    bool IsUniqueViolation(Exception exception);

    /// <summary>True when the exception is two writers fighting over one resource (busy, lock timeout, serialisation): 190010.</summary>
    bool IsContention(Exception exception);

    /// <summary>
    /// Holds off other instances' migrations and bootstrap until the returned handle is disposed (nothing to hold
    /// where one writer runs at a time).
    /// </summary>
    Task<IAsyncDisposable> AcquireMigrationLockAsync(CancellationToken cancellationToken);

    /// <summary>What a job claim's sub-select ends with so that racing workers skip each other's rows ("" where writers serialise anyway).</summary>
    string SkipLockedClause { get; }

    /// <summary>
    /// "column is one of the list parameter": Dapper expands <c>IN @list</c> for SQLite, but hands a list to Npgsql
    /// whole, as an array, which PostgreSQL matches with <c>= ANY</c>.
    /// </summary>
    string InList(string column, string listParameter);

    /// <summary>The negation of <see cref="InList"/>.</summary>
    string NotInList(string column, string listParameter);
}

public sealed class SqliteDatabase : IDatabase, IAsyncDisposable, IDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly GroupCommit _groupCommit;
    private readonly SqliteReadSessions _reads;
    private readonly WalCheckpointer _checkpointer;
    // Pooled connections keep their native handle: per-connection settings are applied once per handle, not per open.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> _configured = new();
    private readonly FileStream _ownership;

    public SqliteDatabase(string databasePath)
    {
        (_ownership, OwnsDatabaseAlone) = ClaimOwnership(databasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            // Writers wait for each other instead of failing with SQLITE_BUSY.
            DefaultTimeout = 30,
        }.ToString();
        _groupCommit = new GroupCommit(OpenWriterAsync);
        _reads = new SqliteReadSessions(OpenReadSession);
        _checkpointer = new WalCheckpointer(OpenReadSession, OpenWriterAsync);
    }

    /// <summary>
    /// One server owns a SQLite database at a time: its single writer and its in-memory answers (BindingReadCache) assume
    /// it sees every write. A second server on the same data folder refuses to start rather than serve stale answers;
    /// the lock (an advisory lock on a file beside the database) goes with the process, however it ends.
    /// </summary>
    private static (FileStream Lock, bool Effective) ClaimOwnership(string databasePath)
    {
        var path = Path.ChangeExtension(databasePath, ".owner");
        FileStream ownership;
        try
        {
            ownership = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"{databasePath} is in use by another ExchangeBridge server. One server owns a SQLite data folder; " +
                "several instances share a PostgreSQL database (ExchangeBridge:PostgresConnectionString).", e);
        }
        // The lock is advisory and can be switched off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING) or unsupported by the file
        // system: a second claim from this very process must then fail too, or the lock proves nothing.
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            return (ownership, false);
        }
        catch (IOException)
        {
            return (ownership, true);
        }
    }

    /// <summary>
    /// True when the ownership lock holds, so no other server writes this database and in-memory answers stay true.
    /// </summary>
    public bool OwnsDatabaseAlone { get; }

    // SQLite answers in-process: a read done synchronously costs no state machine and blocks no longer than its async form.
    public ValueTask<T?> ReadSingleAsync<T>(PreparedStatement query, object?[] values, RowReader<T> map, CancellationToken cancellationToken = default)
        where T : class
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_reads.ReadSingle(query, values, map));
    }

    private SqliteConnection OpenReadSession()
    {
        var connection = new SqliteConnection(_connectionString);
        OpenConfiguredAsync(connection, CancellationToken.None).GetAwaiter().GetResult();
        return connection;
    }

    public Task<T> WriteAsync<T>(WriteWork<T> work, CancellationToken cancellationToken = default) =>
        _groupCommit.RunAsync(work, cancellationToken);

    /// <summary>Copies the WAL into the database in the background (see <see cref="WalCheckpointer"/>).</summary>
    internal WalCheckpointer WalCheckpoints => _checkpointer;

    /// <summary>Write transactions the group commit has committed.</summary>
    public long GroupCommitTransactions => _groupCommit.Transactions;

    public async ValueTask DisposeAsync()
    {
        await _groupCommit.DisposeAsync();
        _reads.Dispose();
        await _checkpointer.DisposeAsync();
        // A writer still in its turn (an import page, a job claim) finishes before its connection is closed under it.
        var hasTurn = await _writer.WaitAsync(WriterDrainTimeout);
        CloseWriter(hasTurn);
        _ownership.Dispose();
    }

    public void Dispose()
    {
        _groupCommit.Dispose();
        _reads.Dispose();
        _checkpointer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        CloseWriter(_writer.Wait(WriterDrainTimeout));
        _ownership.Dispose();
    }

    private static readonly TimeSpan WriterDrainTimeout = TimeSpan.FromSeconds(10);

    private void CloseWriter(bool hasTurn)
    {
        Volatile.Write(ref _disposed, true);
        _writerConnection?.Discard();
        _writerConnection = null;
        if (hasTurn) _writer.Release(); // OpenWriterAsync refuses from now on
    }

    private bool _disposed;

    public string Dialect => "Sqlite";

    public bool IsContention(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 5 /* BUSY */ or 6 /* LOCKED */ };

    // SQLite runs one writer at a time: a claim's UPDATE cannot race another, nor a migration another.
    public string SkipLockedClause => "";
    public string InList(string column, string listParameter) => $"{column} IN {listParameter}";
    public string NotInList(string column, string listParameter) => $"{column} NOT IN {listParameter}";

    public Task<IAsyncDisposable> AcquireMigrationLockAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable>(NoLock.Instance);

    private sealed class NoLock : IAsyncDisposable
    {
        public static readonly NoLock Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    public async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        var connection = new SqliteConnection(_connectionString);
        await OpenConfiguredAsync(connection, cancellationToken);
        return connection;
    }

    public async ValueTask<DbConnection> OpenWriterAsync(CancellationToken cancellationToken = default)
    {
        await _writer.WaitAsync(cancellationToken);
        if (Volatile.Read(ref _disposed))
        {
            _writer.Release();
            throw new ObjectDisposedException(nameof(SqliteDatabase));
        }
        try
        {
            // One writer connection for the life of the database: it keeps its prepared statements between turns.
            _writerConnection ??= new WriterConnection(_connectionString, this);
            if (_writerConnection.State != System.Data.ConnectionState.Open)
                await OpenConfiguredAsync(_writerConnection, cancellationToken);
            Volatile.Write(ref _inTurn, 1);
            return _writerConnection;
        }
        catch
        {
            _writerConnection?.Discard();
            _writerConnection = null;
            _writer.Release();
            throw;
        }
    }

    private WriterConnection? _writerConnection;
    private int _inTurn; // 1 while a writer holds the turn

    /// <summary>
    /// Ends a writer's turn. A connection left inside a transaction (a writer that did not dispose its own) is not
    /// trusted with the next turn: it is closed, which rolls the transaction back. Every writer disposes its connection
    /// once, at the end of its turn (<c>await using</c>), and keeps no reference past it: the object is the next writer's.
    /// </summary>
    private void EndTurn(WriterConnection connection)
    {
        // Disposed twice in one turn: the turn was given back already.
        if (Interlocked.Exchange(ref _inTurn, 0) == 0) return;
        try
        {
            if (connection.State == System.Data.ConnectionState.Open && connection.Handle is { } handle &&
                SQLitePCL.raw.sqlite3_get_autocommit(handle) == 0)
            {
                _writerConnection = null;
                connection.Discard();
            }
        }
        finally
        {
            // Whatever closing did, the turn goes back: a lost turn would stop every write.
            _writer.Release();
            _checkpointer.WritesMade();
        }
    }

    private async Task OpenConfiguredAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await connection.OpenAsync(cancellationToken);
        if (connection.Handle is not { } handle || _configured.TryGetValue(handle, out _)) return;
        // WAL lets readers run beside the writer; NORMAL syncs the WAL at checkpoints, so a committed transaction
        // survives a killed process (it may not survive a power cut). The busy timeout covers other processes.
        // Checkpoints are the WalCheckpointer's; a committing connection checkpoints only past its fallback.
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; " +
                             $"PRAGMA wal_autocheckpoint={WalCheckpointer.WriterFallbackPages}; " +
                             // A WAL started over keeps its file; past this size the file is cut back.
                             $"PRAGMA journal_size_limit={WalCheckpointer.RestartPages * 4096};";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        _configured.AddOrUpdate(handle, handle);
    }

    /// <summary>
    /// The writer's connection: disposing it gives the writer's turn back and leaves it open, with its prepared
    /// statements, for the next turn.
    /// </summary>
    private sealed class WriterConnection(string connectionString, SqliteDatabase database) : SqliteConnection(connectionString), IPreparedStatementCache
    {
        private readonly Dictionary<PreparedStatement, SqliteCommand> _prepared = new(ReferenceEqualityComparer.Instance);

        public DbCommand Prepared(PreparedStatement statement)
        {
            if (_prepared.TryGetValue(statement, out var command)) return command;
            command = statement.NewSqliteCommand(this);
            _prepared[statement] = command;
            return command;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) database.EndTurn(this);
            else base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync()
        {
            database.EndTurn(this);
            return ValueTask.CompletedTask;
        }

        /// <summary>Closes it for good.</summary>
        public void Discard()
        {
            foreach (var command in _prepared.Values) command.Dispose();
            _prepared.Clear();
            base.Dispose(true);
        }
    }

    public bool IsUniqueViolation(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 19 } e &&
        (e.SqliteExtendedErrorCode is 2067 /* UNIQUE */ or 1555 /* PRIMARY KEY */);
}

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
