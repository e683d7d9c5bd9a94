using ExchangeBridge.Cli.Csv;
using ExchangeBridge.Cli.Output;
using ExchangeBridge.Core.Bindings;

namespace ExchangeBridge.Cli.Binding;

/// <summary>A binding a command acts on: its id, and the accounts it binds when a CSV named them.</summary>
internal sealed record BindingTarget(string ExchangeBindingId, string? ExchangeAccount = null, string? UserId = null);

/// <summary>The bindings named on the command line or in a CSV (a bind result file, or a mapping).</summary>
internal static class BindingTargets
{
    public static IReadOnlyList<BindingTarget> From(IEnumerable<string> ids, FileInfo? csv, string? adminAccount)
    {
        var targets = ids.Where(i => i.Length > 0).Select(i => new BindingTarget(i)).ToList();
        if (csv is not null) targets.AddRange(FromCsv(csv, adminAccount));
        return targets.DistinctBy(t => t.ExchangeBindingId).ToList();
    }

    /// <summary>
    /// A result file gives the ids the server answered (rows recorded as bound); a mapping gives the ids its rows make,
    /// the documented base64 of <c>admin_account + " " + exchange_account</c>.
    /// </summary>
    private static IEnumerable<BindingTarget> FromCsv(FileInfo csv, string? adminAccount)
    {
        if (!csv.Exists) throw new Commands.UsageException($"{csv.FullName} does not exist");
        using (var reader = new StreamReader(csv.FullName))
        {
            var header = CsvReader.Read(reader).FirstOrDefault()?.Fields.Select(f => f.Trim()).ToList() ?? [];
            int idColumn = header.IndexOf("exchange_binding_id"), exchangeColumn = header.IndexOf("exchange_account"), userColumn = header.IndexOf("user_id");
            string? Field(CsvRecord r, int i) => i >= 0 && i < r.Fields.Count ? r.Fields[i] : null;
            if (idColumn >= 0)
                return CsvReader.Read(reader)
                    .Where(r => r.Error is null && Field(r, idColumn) is { Length: > 0 })
                    .Select(r => new BindingTarget(r.Fields[idColumn], Field(r, exchangeColumn), Field(r, userColumn)))
                    .ToList();
        }
        var mapping = MappingFile.Read(csv.FullName, adminAccount);
        foreach (var problem in mapping.Problems) CliConsole.Error($"line {problem.Line}: skipped: {problem.Reason}");
        return mapping.Rows.Select(r => new BindingTarget(ExchangeBindingId.Encode(r.AdminAccount, r.ExchangeAccount), r.ExchangeAccount, r.UserId))
            .ToList();
    }
}
