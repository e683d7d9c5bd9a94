// A value for one of a statement's parameters, named as the SQL names it: ("tenantKey", tenantKey).
global using SqlArgument = (string Name, object? Value);
using System.Data.Common;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace ExchangeBridge.Server.Storage;

/// <summary>
/// A statement on a hot path (a request's lookup or write), declared once. Its parameters are the <c>@names</c> its SQL
/// uses, found in the SQL itself; values are given by name, in any order, and binding refuses a name the SQL does not use
/// or leaves out one it does, so a reordered or edited statement cannot put a value into the wrong place. Its rows are
/// read by column name (<see cref="NamedRow"/>), the names resolved to ordinals once per statement. Where the database
/// would re-prepare each command (Microsoft.Data.Sqlite does), it is prepared once per connection that keeps it
/// (<see cref="IPreparedStatementCache"/>) and then only re-bound.
/// </summary>
public sealed partial class PreparedStatement
{
    private readonly string[] _parameterNames;
    private ColumnOrdinals? _columns;

    public PreparedStatement(string sql)
    {
        Sql = sql;
        _parameterNames = ParameterPattern().Matches(sql).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal).ToArray();
    }

    public string Sql { get; }

    /// <summary>The parameters the SQL names, in the order they first appear.</summary>
    public IReadOnlyList<string> ParameterNames => _parameterNames;

    // "@name" not preceded by a word character or another '@' (an e-mail address in a literal, "@@" variables).
    [GeneratedRegex(@"(?<![\w@])@([A-Za-z_]\w*)")]
    private static partial Regex ParameterPattern();

    /// <summary>A SQLite command for the statement on <paramref name="connection"/>, its parameters in place, to be kept.</summary>
    internal SqliteCommand NewSqliteCommand(SqliteConnection connection) => (SqliteCommand)NewCommand(connection);

    /// <summary>A command for the statement on <paramref name="connection"/>, its parameters in place (values unset).</summary>
    internal DbCommand NewCommand(DbConnection connection)
    {
        var command = connection.CreateCommand();
        command.CommandText = Sql;
        foreach (var name in _parameterNames)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>
    /// Sets the values of a command made by <see cref="NewCommand"/>, each to the parameter of its name. A kept command
    /// would silently reuse the previous call's value for a parameter not given, so every parameter must be given once.
    /// </summary>
    internal void Bind(DbParameterCollection parameters, ReadOnlySpan<SqlArgument> values)
    {
        if (values.Length != _parameterNames.Length)
            throw new ArgumentException(
                $"The statement takes {_parameterNames.Length} parameters ({string.Join(", ", _parameterNames)}); {values.Length} values were given: {Sql}");
        Span<bool> given = _parameterNames.Length <= 256 ? stackalloc bool[_parameterNames.Length] : new bool[_parameterNames.Length];
        for (var i = 0; i < values.Length; i++)
        {
            var name = values[i].Name;
            // Values given in the SQL's order are found at once; others by name.
            var at = string.Equals(_parameterNames[i], name, StringComparison.Ordinal) ? i : IndexOf(name);
            if (at < 0) throw new ArgumentException($"The statement has no parameter @{name}: {Sql}");
            if (given[at]) throw new ArgumentException($"@{name} was given twice: {Sql}");
            given[at] = true;
            parameters[at].Value = values[i].Value ?? DBNull.Value;
        }
    }

    private int IndexOf(string name)
    {
        var byName = _parameterIndexes ??= _parameterNames.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        return byName.TryGetValue(name, out var index) ? index : -1;
    }

    private Dictionary<string, int>? _parameterIndexes;

    /// <summary>The ordinals of the statement's result columns, looked up in the first reader and kept (the SQL is fixed).</summary>
    internal ColumnOrdinals ColumnsOf(DbDataReader reader) => _columns ??= ColumnOrdinals.Of(reader, Sql);
}

/// <summary>A statement's result columns by name.</summary>
internal sealed class ColumnOrdinals
{
    private readonly Dictionary<string, int> _ordinals;
    private readonly string _sql;

    private ColumnOrdinals(Dictionary<string, int> ordinals, string sql) => (_ordinals, _sql) = (ordinals, sql);

    public static ColumnOrdinals Of(DbDataReader reader, string sql)
    {
        var ordinals = new Dictionary<string, int>(reader.FieldCount, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < reader.FieldCount; i++)
            if (!ordinals.TryAdd(reader.GetName(i), i))
                throw new InvalidOperationException($"Column {reader.GetName(i)} is selected twice; name each once: {sql}");
        return new ColumnOrdinals(ordinals, sql);
    }

    public int this[string column] => _ordinals.TryGetValue(column, out var ordinal)
        ? ordinal
        : throw new ArgumentException($"The statement selects no column {column}: {_sql}");
}

/// <summary>The current row of a prepared statement's reader, its columns read by name.</summary>
public readonly struct NamedRow
{
    private readonly DbDataReader _reader;
    private readonly ColumnOrdinals _columns;

    internal NamedRow(DbDataReader reader, ColumnOrdinals columns) => (_reader, _columns) = (reader, columns);

    public string String(string column) => _reader.GetString(_columns[column]);

    public string? NullableString(string column)
    {
        var ordinal = _columns[column];
        return _reader.IsDBNull(ordinal) ? null : _reader.GetString(ordinal);
    }

    public long Int64(string column) => _reader.GetInt64(_columns[column]);

    /// <summary>A boolean column: BOOLEAN on PostgreSQL, INTEGER 0/1 on SQLite.</summary>
    public bool Boolean(string column) => _reader.GetBoolean(_columns[column]);

    public long? NullableInt64(string column)
    {
        var ordinal = _columns[column];
        return _reader.IsDBNull(ordinal) ? null : _reader.GetInt64(ordinal);
    }
}

/// <summary>Maps the current row of a prepared statement's reader, reading its columns by name.</summary>
public delegate T RowReader<out T>(NamedRow row);

/// <summary>A connection that keeps its prepared commands.</summary>
public interface IPreparedStatementCache
{
    DbCommand Prepared(PreparedStatement statement);
}

/// <summary>Runs prepared statements inside a write transaction, from the connection's cache where it keeps one.</summary>
public static class PreparedWrites
{
    public static async Task<object?> ExecuteScalarAsync(this DbConnection connection, DbTransaction transaction,
        PreparedStatement statement, SqlArgument[] values, CancellationToken cancellationToken)
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
        PreparedStatement statement, SqlArgument[] values, CancellationToken cancellationToken)
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
        PreparedStatement statement, SqlArgument[] values)
    {
        var (command, owned) = connection is IPreparedStatementCache cache
            ? (cache.Prepared(statement), false)
            : (statement.NewCommand(connection), true);
        command.Transaction = transaction;
        statement.Bind(command.Parameters, values);
        return (command, owned);
    }
}
