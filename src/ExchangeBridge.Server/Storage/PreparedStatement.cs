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
