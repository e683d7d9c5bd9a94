using System.Data.Common;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// Where the data lives. Hands out connections for reads, runs every write as a unit of work
/// (<see cref="WriteAsync{T}(Touched, WriteWork{T}, CancellationToken)"/>), and applies the schema history at start-up. SQLite in the data folder is the embedded
/// default. Disposing it waits for the writes under way and lets go of the data folder.
/// </summary>
public interface IDatabase : IAsyncDisposable
{
    /// <summary>A connection for reads. Nothing is written through it: every write is a <see cref="WriteAsync{T}(Touched, WriteWork{T}, CancellationToken)"/>.</summary>
    ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The one way to write: runs <paramref name="work"/> in a write transaction and answers once it is committed (a work
    /// that throws is rolled back, alone). Where writers take turns (SQLite) the works that queue meanwhile share one
    /// transaction (<see cref="GroupCommit"/>), each in its own savepoint. A write started inside another write (from its
    /// work, on the same async flow) throws <see cref="InvalidOperationException"/> at once: it could only wait for the
    /// turn its caller holds. A work does all of its writing on the connection and transaction it is given.
    /// <para>
    /// <paramref name="touched"/> is what the write changed that a cache may hold (<see cref="Touched.Nothing"/> when
    /// nothing): after the commit, and before the caller is answered, <see cref="Changes"/> announces it to every cache
    /// (on PostgreSQL, to the other instances' too). Nothing else forgets cached answers.
    /// </para>
    /// </summary>
    Task<T> WriteAsync<T>(Touched touched, WriteWork<T> work, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="WriteAsync{T}(Touched, WriteWork{T}, CancellationToken)"/> for a write whose touch is known only from its
    /// result (the key of the binding a delete removed): <paramref name="touchedBy"/> maps the work's result to it.
    /// </summary>
    Task<T> WriteAsync<T>(WriteWork<T> work, Func<T, Touched> touchedBy, CancellationToken cancellationToken = default);

    /// <summary>The commit hook the caches subscribe to.</summary>
    ChangeFeed Changes { get; }

    /// <summary>
    /// The first row of a hot-path read mapped by <paramref name="map"/>, or null: one round trip, the statement prepared
    /// once per connection where the driver would otherwise prepare it on every call.
    /// </summary>
    ValueTask<T?> ReadSingleAsync<T>(PreparedStatement query, SqlArgument[] values, RowReader<T> map, CancellationToken cancellationToken = default)
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

    /// <summary>
    /// "<paramref name="column"/> is one of the values of <paramref name="listParameter"/>", a list passed whole as one
    /// parameter (its value made by <see cref="ListArgument(IReadOnlyCollection{string})"/>), so that the statement's text is
    /// the same whatever the number of values: on SQLite a JSON array read by json_each (a list expanded into a parameter a
    /// value, as Dapper does, makes the driver bind each by name, SQLite parse a new text at every count, and meets SQLite's
    /// limit on parameters), on PostgreSQL an array matched with <c>= ANY</c>.
    /// </summary>
    string InList(string column, string listParameter);

    /// <summary>The negation of <see cref="InList"/>.</summary>
    string NotInList(string column, string listParameter);

    /// <summary>The value of an <see cref="InList"/> parameter: a JSON array on SQLite, an array on PostgreSQL.</summary>
    object ListArgument(IReadOnlyCollection<string> values);

    /// <inheritdoc cref="ListArgument(IReadOnlyCollection{string})"/>
    object ListArgument(IReadOnlyCollection<long> values);

    /// <summary>
    /// How many rows a multi-row INSERT carries, given <paramref name="overNetwork"/>, what saves round trips to a server:
    /// PostgreSQL takes that many; SQLite, in process, fewer, since it finds each parameter by name in a linear scan of the
    /// statement's parameters, so binding a statement costs the square of its parameters (with 32-row upserts of 514
    /// parameters and 64-row change-log inserts, an import spent 3.5 % of the server's CPU in them).
    /// </summary>
    int RowsPerStatement(int overNetwork);

    /// <summary>The aggregate joining a group's texts <paramref name="expression"/> with <paramref name="separator"/> (SQL) between them.</summary>
    string JoinedTexts(string expression, string separator);

    /// <summary>A character as an SQL expression (for one no literal should hold, such as a control character).</summary>
    string Character(char character);

    /// <summary>
    /// What makes a claiming subquery lock the rows of <paramref name="alias"/> it picks and pass over those another
    /// writer's transaction has locked (PostgreSQL's <c>FOR UPDATE OF alias SKIP LOCKED</c>); null where writers take turns
    /// and no row is ever locked by another.
    /// </summary>
    string? SkipLockedRowsOf(string alias);
}

/// <summary>
/// Marks the async flow a write's work runs on, so that a write started from inside it fails at once instead of waiting
/// for a turn that is not given back until it finishes (SQLite's single writer), or committing apart from its caller.
/// </summary>
internal static class NestedWrites
{
    private static readonly AsyncLocal<bool> InsideWrite = new();

    /// <summary>Marks the current flow (and what it starts) as running a write's work; undone when the marking async method returns.</summary>
    public static void Enter() => InsideWrite.Value = true;

    public static void ThrowIfInsideWrite()
    {
        if (InsideWrite.Value)
            throw new InvalidOperationException(
                "A write was started inside another write; it would wait for the writer's turn its caller holds. " +
                "Do the work on the connection and transaction the enclosing write was given, or start it after that write.");
    }
}
