using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Server.Storage;

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

    public T? ReadSingle<T>(PreparedStatement query, ReadOnlySpan<SqlArgument> values, RowReader<T> map) where T : class
    {
        var session = Take() ?? new Session(open());
        try
        {
            var command = session.Command(query);
            query.Bind(command.Parameters, values);
            T? result = null;
            using (var reader = command.ExecuteReader())
                if (reader.Read()) result = map(new NamedRow(reader, query.ColumnsOf(reader)));
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
