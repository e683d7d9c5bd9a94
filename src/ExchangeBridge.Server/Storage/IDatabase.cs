using System.Data.Common;

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
