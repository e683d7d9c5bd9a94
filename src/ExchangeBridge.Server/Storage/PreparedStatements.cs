using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// A statement on a hot path (a request's lookup or write), declared once: its SQL and the names of its parameters, in
/// the order their values are given. Where the database would re-prepare each command (Microsoft.Data.Sqlite does), it
/// is prepared once per connection that keeps it (<see cref="IPreparedStatementCache"/>) and then only re-bound.
/// </summary>
public sealed class PreparedStatement(string sql, params string[] parameterNames)
{
    public string Sql { get; } = sql;
    public IReadOnlyList<string> ParameterNames { get; } = parameterNames;

    /// <summary>A SQLite command for the statement on <paramref name="connection"/>, its parameters in place, to be kept.</summary>
    internal SqliteCommand NewSqliteCommand(SqliteConnection connection) => (SqliteCommand)NewCommand(connection);

    /// <summary>A command for the statement on <paramref name="connection"/>, its parameters in place (values unset).</summary>
    internal DbCommand NewCommand(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = Sql;
        foreach (var name in ParameterNames)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>
    /// Sets the values of a command made by <see cref="NewCommand"/>, in order. A kept command would silently reuse the
    /// previous call's value for a parameter not given, so the count must match.
    /// </summary>
    internal void Bind(DbParameterCollection parameters, ReadOnlySpan<object?> values)
    {
        if (values.Length != ParameterNames.Count)
            throw new ArgumentException($"{ParameterNames.Count} parameters, {values.Length} values: {Sql}");
        for (var i = 0; i < values.Length; i++) parameters[i].Value = values[i] ?? DBNull.Value;
    }
}

/// <summary>A connection that keeps its prepared commands.</summary>
public interface IPreparedStatementCache
{
    DbCommand Prepared(PreparedStatement statement);
}

/// <summary>Runs prepared statements inside a write transaction, from the connection's cache where it keeps one.</summary>
public static class PreparedWrites
{
    public static async Task<object?> ExecuteScalarAsync(this DbConnection connection, DbTransaction transaction,
        PreparedStatement statement, object?[] values, CancellationToken cancellationToken)
    {
        var (command, owned) = Bind(connection, transaction, statement, values);
        try
        {
            var result = await command.ExecuteScalarAsync(cancellationToken);
            return result is DBNull ? null : result;
        }
        finally
        {
            if (owned) await command.DisposeAsync();
        }
    }

    public static async Task<int> ExecuteAsync(this DbConnection connection, DbTransaction transaction,
        PreparedStatement statement, object?[] values, CancellationToken cancellationToken)
    {
        var (command, owned) = Bind(connection, transaction, statement, values);
        try
        {
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            if (owned) await command.DisposeAsync();
        }
    }

    private static (DbCommand Command, bool Owned) Bind(DbConnection connection, DbTransaction transaction,
        PreparedStatement statement, object?[] values)
    {
        var (command, owned) = connection is IPreparedStatementCache cache
            ? (cache.Prepared(statement), false)
            : (statement.NewCommand(connection), true);
        command.Transaction = transaction;
        statement.Bind(command.Parameters, values);
        return (command, owned);
    }
}

/// <summary>Maps the current row of a reader (columns by ordinal, in the SELECT's order).</summary>
public delegate T RowReader<out T>(DbDataReader row);

/// <summary>
/// SQLite read connections, each keeping its prepared statements. Preparing was a quarter of a GET's server time: SQLite
/// compiles a statement in microseconds, but that is most of what a primary-key lookup costs. A connection is taken
/// from a slot for one read and put back; at most one per slot stays open. Slots are claimed with one interlocked
/// exchange (a ConcurrentBag's locks showed up as a tenth of a GET's time under load).
/// </summary>
internal sealed class SqliteReadSessions(Func<SqliteConnection> open) : IDisposable
{
    private readonly Session?[] _idle = new Session?[Math.Max(4, Environment.ProcessorCount * 4)];
    private bool _disposed;

    public T? ReadSingle<T>(PreparedStatement query, ReadOnlySpan<object?> values, RowReader<T> map) where T : class
    {
        var session = Take() ?? new Session(open());
        try
        {
            var command = session.Command(query);
            query.Bind(command.Parameters, values);
            T? result = null;
            using (var reader = command.ExecuteReader())
                if (reader.Read()) result = map(reader);
            Return(session);
            return result;
        }
        catch
        {
            // A connection whose read failed is not trusted again.
            session.Dispose();
            throw;
        }
    }

    /// <summary>Starts at a slot that depends on the thread, so threads seldom reach for the same one.</summary>
    private Session? Take()
    {
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < _idle.Length; i++)
        {
            ref var slot = ref _idle[(start + i) % _idle.Length];
            if (Volatile.Read(ref slot) is not null && Interlocked.Exchange(ref slot, null) is { } session) return session;
        }
        return null;
    }

    private void Return(Session session)
    {
        if (!Volatile.Read(ref _disposed))
        {
            var start = Environment.CurrentManagedThreadId;
            for (var i = 0; i < _idle.Length; i++)
            {
                ref var slot = ref _idle[(start + i) % _idle.Length];
                if (Interlocked.CompareExchange(ref slot, session, null) is not null) continue;
                // Disposed meanwhile: whoever emptied the slots may have passed this one already.
                if (Volatile.Read(ref _disposed)) Interlocked.Exchange(ref slot, null)?.Dispose();
                return;
            }
        }
        session.Dispose();
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        for (var i = 0; i < _idle.Length; i++) Interlocked.Exchange(ref _idle[i], null)?.Dispose();
    }

    private sealed class Session(SqliteConnection connection) : IDisposable
    {
        private readonly Dictionary<PreparedStatement, SqliteCommand> _commands = new(ReferenceEqualityComparer.Instance);

        public SqliteCommand Command(PreparedStatement query)
        {
            if (_commands.TryGetValue(query, out var command)) return command;
            command = query.NewSqliteCommand(connection);
            command.Prepare();
            _commands[query] = command;
            return command;
        }

        public void Dispose()
        {
            foreach (var command in _commands.Values) command.Dispose();
            connection.Dispose();
        }
    }
}
