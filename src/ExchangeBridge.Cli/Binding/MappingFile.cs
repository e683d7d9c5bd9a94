using ExchangeBridge.Cli.Csv;
using ExchangeBridge.Core.Bindings;

namespace ExchangeBridge.Cli.Binding;

/// <summary>A row of the mapping to bind: where it is in the file and the three values of the create.</summary>
internal sealed record MappingRow(int Line, string ExchangeAccount, string UserId, string AdminAccount)
{
    /// <summary>What makes two rows the same binding, however their addresses are spelt.</summary>
    public RowKey Key => new(EmailAddress.Normalize(AdminAccount), EmailAddress.Normalize(ExchangeAccount), UserId);
}

internal readonly record struct RowKey(string AdminAccount, string ExchangeAccount, string UserId);

/// <summary>A row that will not be sent, and why.</summary>
internal sealed record RowProblem(int Line, string ExchangeAccount, string UserId, string AdminAccount, string Reason);

/// <summary>The file as a whole cannot be used (no header, unknown or missing columns): nothing is bound.</summary>
internal sealed class MappingFileException(string message) : Exception(message);

/// <summary>
/// The mapping CSV: a header naming <c>exchange_account</c> and <c>user_id</c> (and optionally <c>admin_account</c>,
/// which overrides <c>--admin-account</c> per row), then one row per binding. Every row is checked before anything is
/// sent: its shape, its addresses, its user id, and that no Exchange account or user appears twice (all rows of a
/// duplicate are refused, since which one was meant is not ours to guess).
/// </summary>
internal sealed class MappingFile
{
    public const string ExchangeAccountColumn = "exchange_account";
    public const string UserIdColumn = "user_id";
    public const string AdminAccountColumn = "admin_account";
    private const int MaxUserIdLength = 128;
    private static readonly string[] KnownColumns = [ExchangeAccountColumn, UserIdColumn, AdminAccountColumn];

    public required IReadOnlyList<MappingRow> Rows { get; init; }
    public required IReadOnlyList<RowProblem> Problems { get; init; }

    public static MappingFile Read(string path, string? defaultAdminAccount)
    {
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        return Read(reader, defaultAdminAccount);
    }

    public static MappingFile Read(TextReader reader, string? defaultAdminAccount)
    {
        using var records = CsvReader.Read(reader).GetEnumerator();
        if (!records.MoveNext()) throw new MappingFileException("the file is empty: it needs a header line (exchange_account,user_id)");
        var columns = ReadHeader(records.Current);

        var candidates = new List<MappingRow>();
        var problems = new List<RowProblem>();
        while (records.MoveNext())
        {
            var record = records.Current;
            string Field(string name) => columns.TryGetValue(name, out var i) && i < record.Fields.Count ? record.Fields[i].Trim() : "";
            var exchange = Field(ExchangeAccountColumn);
            var userId = Field(UserIdColumn);
            var admin = Field(AdminAccountColumn) is { Length: > 0 } own ? own : defaultAdminAccount?.Trim() ?? "";
            var reason = record.Error is { } error ? $"malformed: {error}"
                : record.Fields.Count != columns.Count ? $"malformed: {record.Fields.Count} fields where the header has {columns.Count}"
                : CheckValues(exchange, userId, admin);
            if (reason is null) candidates.Add(new MappingRow(record.Line, exchange, userId, admin));
            else problems.Add(new RowProblem(record.Line, exchange, userId, admin, reason));
        }

        var duplicates = Duplicates(candidates, r => EmailAddress.Normalize(r.ExchangeAccount), ExchangeAccountColumn)
            .Concat(Duplicates(candidates, r => r.UserId, UserIdColumn))
            .GroupBy(d => d.Row)
            .ToDictionary(g => g.Key, g => string.Join("; ", g.Select(d => d.Reason)));
        problems.AddRange(duplicates.Select(d => new RowProblem(d.Key.Line, d.Key.ExchangeAccount, d.Key.UserId, d.Key.AdminAccount, d.Value)));
        return new MappingFile
        {
            Rows = candidates.Where(r => !duplicates.ContainsKey(r)).ToList(),
            Problems = problems.OrderBy(p => p.Line).ToList(),
        };
    }

    private static Dictionary<string, int> ReadHeader(CsvRecord header)
    {
        if (header.Error is { } error) throw new MappingFileException($"line {header.Line}: the header is malformed: {error}");
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Fields.Count; i++)
        {
            var name = header.Fields[i].Trim().TrimStart('\uFEFF').ToLowerInvariant();
            if (name.Contains('@'))
                throw new MappingFileException($"line {header.Line}: a header line is required (exchange_account,user_id[,admin_account]); this looks like data");
            if (!KnownColumns.Contains(name))
                throw new MappingFileException($"line {header.Line}: unknown column '{header.Fields[i].Trim()}' (the columns are {string.Join(", ", KnownColumns)})");
            if (!columns.TryAdd(name, i)) throw new MappingFileException($"line {header.Line}: column '{name}' appears twice");
        }
        foreach (var required in new[] { ExchangeAccountColumn, UserIdColumn })
            if (!columns.ContainsKey(required)) throw new MappingFileException($"line {header.Line}: the header has no '{required}' column");
        return columns;
    }

    private static string? CheckValues(string exchange, string userId, string admin)
    {
        if (exchange.Length == 0) return "exchange_account is empty";
        if (!EmailAddress.IsValid(exchange)) return $"exchange_account '{exchange}' is not an email address";
        if (userId.Length == 0) return "user_id is empty";
        if (userId.Length > MaxUserIdLength || userId.Any(char.IsControl)) return "user_id is malformed";
        if (admin.Length == 0) return "no admin account: the row's admin_account is empty and no --admin-account was given";
        if (!EmailAddress.IsValid(admin)) return $"admin_account '{admin}' is not an email address";
        return null;
    }

    private static IEnumerable<(MappingRow Row, string Reason)> Duplicates(List<MappingRow> rows, Func<MappingRow, string> key, string column) =>
        rows.GroupBy(key, StringComparer.Ordinal).Where(g => g.Count() > 1).SelectMany(g => g.Select(row =>
            (row, $"duplicate {column} '{key(row)}' (also on line {string.Join(", ", g.Where(o => o != row).Select(o => o.Line))})")));
}
