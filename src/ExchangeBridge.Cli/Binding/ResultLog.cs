using System.Globalization;
using System.Text;
using ExchangeBridge.Cli.Csv;
using ExchangeBridge.Core.Bindings;

namespace ExchangeBridge.Cli.Binding;

/// <summary>What became of one row: bound, failed (the service refused or could not be reached) or invalid (never sent).</summary>
internal sealed record BindResult(int Line, string ExchangeAccount, string UserId, string AdminAccount, string Outcome,
    string? ExchangeBindingId = null, string? Status = null, int? Code = null, string? Msg = null, string? LogId = null)
{
    public const string Bound = "bound";
    public const string Failed = "failed";
    public const string Invalid = "invalid";

    public RowKey Key => new(EmailAddress.Normalize(AdminAccount), EmailAddress.Normalize(ExchangeAccount), UserId);
}

/// <summary>
/// The result CSV, which is also what makes <c>bind</c> resumable. Each result is appended and flushed to disk as it
/// completes, so a run killed at any point keeps every result it acknowledged; the next run skips the rows recorded as
/// bound and sends the rest again (a create of the same triple answers the existing binding, so a row that was in
/// flight is safe to resend). At the start of a run the file is rewritten (atomically) to the bound rows of earlier
/// runs plus this run's invalid rows, so it ends holding one line per row.
/// </summary>
internal sealed class ResultLog : IDisposable
{
    private static readonly string[] Columns =
        ["line", "exchange_account", "user_id", "admin_account", "outcome", "exchange_binding_id", "status", "code", "msg", "log_id"];

    private readonly object _gate = new();
    private readonly FileStream _stream;
    private readonly StreamWriter _writer;

    private ResultLog(FileStream stream)
    {
        _stream = stream;
        _writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
    }

    /// <summary>
    /// The rows an earlier run recorded as bound, by what they bind. A line cut short by a kill is ignored: its row is
    /// simply sent again.
    /// </summary>
    public static IReadOnlyDictionary<RowKey, BindResult> LoadBound(string path)
    {
        var bound = new Dictionary<RowKey, BindResult>();
        if (!File.Exists(path)) return bound;
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        using var records = CsvReader.Read(reader).GetEnumerator();
        if (!records.MoveNext()) return bound;
        if (!records.Current.Fields.Select(f => f.Trim()).SequenceEqual(Columns))
            throw new MappingFileException($"{path} exists and is not an exbridge result file (its header is not {string.Join(',', Columns)}); " +
                                           "choose another --out");
        while (records.MoveNext())
        {
            var r = records.Current;
            if (r.Error is not null || r.Fields.Count != Columns.Length || r.Fields[4] != BindResult.Bound) continue;
            if (!int.TryParse(r.Fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var line)) continue;
            var result = new BindResult(line, r.Fields[1], r.Fields[2], r.Fields[3], BindResult.Bound, Empty(r.Fields[5]), Empty(r.Fields[6]),
                null, Empty(r.Fields[8]), Empty(r.Fields[9]));
            bound[result.Key] = result;
        }
        return bound;
    }

    /// <summary>Rewrites the file to <paramref name="kept"/> (atomically: a temporary file renamed over it), then opens it for appending.</summary>
    public static ResultLog Start(string path, IEnumerable<BindResult> kept)
    {
        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" })
        {
            writer.WriteLine(CsvWriter.Line(Columns));
            foreach (var result in kept) writer.WriteLine(Format(result));
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, full, overwrite: true);
        return new ResultLog(new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    /// <summary>Appends one result and flushes it to disk before returning.</summary>
    public void Append(BindResult result)
    {
        var line = Format(result) + "\n";
        lock (_gate)
        {
            _writer.Write(line);
            _writer.Flush();
            _stream.Flush(flushToDisk: true);
        }
    }

    private static string Format(BindResult r) => CsvWriter.Line(r.Line.ToString(CultureInfo.InvariantCulture), r.ExchangeAccount, r.UserId,
        r.AdminAccount, r.Outcome, r.ExchangeBindingId, r.Status, r.Code?.ToString(CultureInfo.InvariantCulture), r.Msg, r.LogId);

    private static string? Empty(string value) => value.Length == 0 ? null : value;

    public void Dispose()
    {
        lock (_gate)
        {
            _writer.Dispose();
        }
    }
}
