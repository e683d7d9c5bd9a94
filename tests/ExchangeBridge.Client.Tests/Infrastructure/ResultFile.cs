using Microsoft.VisualBasic.FileIO;

namespace ExchangeBridge.Client.Tests.Infrastructure;

/// <summary>One line of exbridge's result CSV.</summary>
public sealed record ResultRow(int Line, string ExchangeAccount, string UserId, string Outcome, string ExchangeBindingId, string Code);

/// <summary>
/// Reads a bind result CSV the way a spreadsheet or a script would (the framework's own CSV parser, not exbridge's), as
/// it stands on disk even while a run is writing it: a last line cut short is left out.
/// </summary>
public static class ResultFile
{
    public static IReadOnlyList<ResultRow> Read(string path)
    {
        if (!File.Exists(path)) return [];
        var text = File.ReadAllText(path);
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        using var parser = new TextFieldParser(new StringReader(complete)) { HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        parser.SetDelimiters(",");
        var header = parser.ReadFields() ?? [];
        int Column(string name) => Array.IndexOf(header, name) is >= 0 and var i ? i : throw new InvalidDataException($"no {name} column in {path}");
        int line = Column("line"), account = Column("exchange_account"), user = Column("user_id"), outcome = Column("outcome"),
            id = Column("exchange_binding_id"), code = Column("code");
        var rows = new List<ResultRow>();
        while (parser.ReadFields() is { } f)
            rows.Add(new ResultRow(int.Parse(f[line]), f[account], f[user], f[outcome], f[id], f[code]));
        return rows;
    }
}
