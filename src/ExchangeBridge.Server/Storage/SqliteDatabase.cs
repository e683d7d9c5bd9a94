using System.Buffers;
using System.Data.Common;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Server.Storage;

public sealed class SqliteDatabase : IDatabase, IDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly GroupCommit _groupCommit;
    private readonly SqliteReadSessions _reads;
    private readonly WalCheckpointer _checkpointer;
    // Pooled connections keep their native handle: per-connection settings are applied once per handle, not per open, and
    // its page cache again only when the handle comes back in another role (the writer, a read session and the pooled
    // reads share the driver's pool).
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, ConfiguredHandle> _configured = new();

    private sealed record ConfiguredHandle(int PageCacheKib);

    /// <summary>
    /// The page cache of a pooled read connection (<see cref="OpenAsync"/>: the range reads of free/busy and the instance
    /// view among others): 16 MB instead of SQLite's 2 MB. A free/busy request for 100 of a thousand users reads some
    /// 4,000 pages of the range indexes over a week; with 2 MB they are evicted between requests and each is read again
    /// with pread and copied (half of the statements' time on a million events, measured: bench/results/latest.md,
    /// 2026-12-07 fb11). A cache grows only with the pages its connection reads, so connections that read little stay small.
    /// </summary>
    private const int PooledReadPageCacheKib = 16 * 1024;

    /// <summary>
    /// SQLite's own default, kept by the writer and the prepared read sessions (point reads by key), whose caches would
    /// otherwise grow with every page an import writes or a GET touches.
    /// </summary>
    private const int DefaultPageCacheKib = 2000;
    private readonly FileStream _ownership;

    public SqliteDatabase(string databasePath)
    {
        (_ownership, OwnsDatabaseAlone) = ClaimOwnership(databasePath);
        // Created owner-only before SQLite would create it world-readable; its -wal and -shm files take its mode.
        new FileStream(databasePath, Hosting.DataFolder.OwnerOnly(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite)).Dispose();
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            // Writers wait for each other instead of failing with SQLITE_BUSY.
            DefaultTimeout = 30,
        }.ToString();
        // One server per SQLite database: every write it must hear is its own.
        Changes = new ChangeFeed(hearsEveryWrite: true);
        _groupCommit = new GroupCommit(TakeWritersTurnAsync, Changes);
        _reads = new SqliteReadSessions(OpenReadSession);
        _checkpointer = new WalCheckpointer(OpenReadSession, TakeWritersTurnAsync);
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
            ownership = new FileStream(path, Hosting.DataFolder.OwnerOnly(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
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
    public ValueTask<T?> ReadSingleAsync<T>(PreparedStatement query, SqlArgument[] values, RowReader<T> map, CancellationToken cancellationToken = default)
        where T : class
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(_reads.ReadSingle(query, values, map));
    }

    private SqliteConnection OpenReadSession()
    {
        var connection = new SqliteConnection(_connectionString);
        OpenConfiguredAsync(connection, DefaultPageCacheKib, CancellationToken.None).GetAwaiter().GetResult();
        return connection;
    }

    public Task<T> WriteAsync<T>(Touched touched, WriteWork<T> work, CancellationToken cancellationToken = default)
    {
        NestedWrites.ThrowIfInsideWrite();
        return _groupCommit.RunAsync(work, touched, null, cancellationToken);
    }

    public Task<T> WriteAsync<T>(WriteWork<T> work, Func<T, Touched> touchedBy, CancellationToken cancellationToken = default)
    {
        NestedWrites.ThrowIfInsideWrite();
        return _groupCommit.RunAsync(work, Touched.Nothing, touchedBy, cancellationToken);
    }

    public ChangeFeed Changes { get; }

    /// <summary>Copies the WAL into the database in the background (see <see cref="WalCheckpointer"/>).</summary>
    internal WalCheckpointer WalCheckpoints => _checkpointer;

    /// <summary>Write transactions the group commit has committed.</summary>
    public long GroupCommitTransactions => _groupCommit.Transactions;

    /// <summary>
    /// Closes the database once, however many callers ask (the host's stop and its container both do) and each of them
    /// returns only when it is closed: the data folder is free for the next server as soon as any of them has returned.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_closeOnce) _closed ??= CloseAsync();
        return new ValueTask(_closed);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private readonly Lock _closeOnce = new();
    private Task? _closed;

    private async Task CloseAsync()
    {
        // The writes already queued are committed and answered; the background checkpoints stop.
        await _groupCommit.DisposeAsync();
        _reads.Dispose();
        await _checkpointer.DisposeAsync();
        // Whoever still holds the writer's turn finishes before its connection is closed under it.
        var hasTurn = await _writer.WaitAsync(WriterDrainTimeout);
        CloseWriter(hasTurn);
        _ownership.Dispose();
    }

    private static readonly TimeSpan WriterDrainTimeout = TimeSpan.FromSeconds(10);

    private void CloseWriter(bool hasTurn)
    {
        Volatile.Write(ref _disposed, true);
        _writerConnection?.Discard();
        _writerConnection = null;
        if (hasTurn) _writer.Release(); // TakeWritersTurnAsync refuses from now on
    }

    private bool _disposed;

    public string Dialect => "Sqlite";

    public bool IsContention(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 5 /* BUSY */ or 6 /* LOCKED */ };

    public string InList(string column, string listParameter) => $"{column} IN (SELECT value FROM json_each({listParameter}))";
    public string NotInList(string column, string listParameter) => $"{column} NOT IN (SELECT value FROM json_each({listParameter}))";
    public object ListArgument(IReadOnlyCollection<string> values) => JsonArray(values, static (json, value) => json.WriteStringValue(value));
    public object ListArgument(IReadOnlyCollection<long> values) => JsonArray(values, static (json, value) => json.WriteNumberValue(value));
    public int RowsPerStatement(int overNetwork) => Math.Min(8, overNetwork);
    public string JoinedTexts(string expression, string separator) => $"group_concat({expression}, {separator})";
    public string Character(char character) => $"char({(int)character})";
    public string? SkipLockedRowsOf(string alias) => null;

    private static string JsonArray<T>(IReadOnlyCollection<T> values, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var value in values) write(json, value);
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // SQLite runs one writer at a time: a migration cannot race another.
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
        await OpenConfiguredAsync(connection, PooledReadPageCacheKib, cancellationToken);
        return connection;
    }

    /// <summary>
    /// The writer's connection, for the group commit and the checkpointer only: one writer at a time, queued here in
    /// memory instead of in SQLite's busy handler, until the connection is disposed. Everything else writes through
    /// <see cref="WriteAsync{T}(Touched, WriteWork{T}, CancellationToken)"/>.
    /// </summary>
    internal async ValueTask<DbConnection> TakeWritersTurnAsync(CancellationToken cancellationToken = default)
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
                await OpenConfiguredAsync(_writerConnection, DefaultPageCacheKib, cancellationToken);
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

    private async Task OpenConfiguredAsync(SqliteConnection connection, int pageCacheKib, CancellationToken cancellationToken)
    {
        await connection.OpenAsync(cancellationToken);
        if (connection.Handle is not { } handle) return;
        var configured = _configured.TryGetValue(handle, out var was) ? was : null;
        if (configured?.PageCacheKib == pageCacheKib) return;
        using var pragma = connection.CreateCommand();
        pragma.CommandText = configured is null
            // WAL lets readers run beside the writer; NORMAL syncs the WAL at checkpoints, so a committed transaction
            // survives a killed process (it may not survive a power cut). The busy timeout covers other processes.
            // Checkpoints are the WalCheckpointer's; a committing connection checkpoints only past its fallback.
            ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; " +
              $"PRAGMA wal_autocheckpoint={WalCheckpointer.WriterFallbackPages}; " +
              // A WAL started over keeps its file; past this size the file is cut back.
              $"PRAGMA journal_size_limit={WalCheckpointer.RestartPages * 4096}; PRAGMA cache_size=-{pageCacheKib};"
            : $"PRAGMA cache_size=-{pageCacheKib};";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        _configured.AddOrUpdate(handle, new ConfiguredHandle(pageCacheKib));
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

        [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2215:Dispose methods should call base class dispose",
            Justification = "Disposing a turn returns it, connection open; Discard closes it.")]
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
