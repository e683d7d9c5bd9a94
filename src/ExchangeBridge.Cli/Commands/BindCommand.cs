using System.CommandLine;
using ExchangeBridge.Cli.Binding;
using ExchangeBridge.Cli.Output;
using ExchangeBridge.Client;

namespace ExchangeBridge.Cli.Commands;

/// <summary>
/// <c>exbridge bind --csv mapping.csv</c>: checks every row, binds the good ones with bounded concurrency, records each
/// result durably as it completes, and on a second run binds only what is not recorded as bound yet.
/// </summary>
internal static class BindCommand
{
    private const int MaxConcurrency = 64;
    private const int FailuresListed = 20;

    public static Command Create()
    {
        var csv = new Option<FileInfo>("--csv")
        {
            Required = true,
            Description = "The mapping: a header exchange_account,user_id[,admin_account], then one row per binding",
        };
        var adminAccount = new Option<string?>("--admin-account")
        {
            Description = "The Exchange admin account for rows whose admin_account column is empty or absent",
        };
        var concurrency = new Option<int>("--concurrency") { Description = $"Creates in flight at once (1..{MaxConcurrency})", DefaultValueFactory = _ => 4 };
        var output = new Option<FileInfo?>("--out")
        {
            Description = "The result CSV, also what a second run resumes from (default: <csv name>.results.csv beside the mapping)",
        };
        var userIdType = Options.UserIdType("How the user_id column is meant");
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the mapping and say what would be bound; send nothing" };

        var command = new Command("bind", "Bind Exchange accounts to Feishu users from a CSV (resumable)")
        {
            csv, adminAccount, concurrency, output, userIdType, dryRun,
        };
        command.SetAction((parse, ct) => Commands.Run(() => RunAsync(new Connection(parse), parse.GetRequiredValue(csv),
            parse.GetValue(adminAccount), parse.GetValue(concurrency), parse.GetValue(output), Options.ParseUserIdType(parse.GetValue(userIdType)),
            parse.GetValue(dryRun), ct)));
        return command;
    }

    private static async Task<int> RunAsync(Connection connection, FileInfo csv, string? adminAccount, int concurrency,
        FileInfo? output, UserIdType userIdType, bool dryRun, CancellationToken ct)
    {
        if (concurrency is < 1 or > MaxConcurrency) throw new UsageException($"--concurrency must be 1..{MaxConcurrency}");
        if (!csv.Exists) throw new UsageException($"{csv.FullName} does not exist");
        var resultsPath = output?.FullName ?? Path.Combine(csv.DirectoryName ?? ".", Path.GetFileNameWithoutExtension(csv.Name) + ".results.csv");

        var mapping = MappingFile.Read(csv.FullName, adminAccount);
        foreach (var problem in mapping.Problems) CliConsole.Error($"line {problem.Line}: {problem.Reason}");
        var boundEarlier = ResultLog.LoadBound(resultsPath);
        var pending = mapping.Rows.Where(r => !boundEarlier.ContainsKey(r.Key)).ToList();
        Console.Out.WriteLine($"{mapping.Rows.Count + mapping.Problems.Count} rows: {pending.Count} to bind, " +
                              $"{mapping.Rows.Count - pending.Count} bound earlier, {mapping.Problems.Count} invalid");
        if (dryRun) return mapping.Problems.Count > 0 ? ExitCodes.Failed : ExitCodes.Ok;

        var counters = new BindCounters(pending.Count);
        // No sign-in when there is nothing to send: a finished run can be repeated offline.
        using var client = pending.Count == 0 ? null : await connection.UserClientAsync(ct, info =>
        {
            if (info.RateLimited) counters.CountRateLimitWait();
        }, maxRetries: 10);
        var invalid = mapping.Problems.Select(p => new BindResult(p.Line, p.ExchangeAccount, p.UserId, p.AdminAccount, BindResult.Invalid, Msg: p.Reason));
        using var log = ResultLog.Start(resultsPath, boundEarlier.Values.Concat(invalid));
        var failures = new List<BindResult>();

        try
        {
            await BindProgress.RunAsync(counters, CliConsole.IsTerminal, () => Parallel.ForEachAsync(pending,
                new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
                async (row, token) =>
                {
                    var result = await BindOneAsync(client!, row, userIdType, token);
                    log.Append(result);
                    if (result.Outcome == BindResult.Bound)
                    {
                        counters.CountBound();
                        return;
                    }
                    counters.CountFailed();
                    lock (failures) failures.Add(result);
                }));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            CliConsole.Error($"interrupted: {counters.Done} results recorded in {resultsPath}; run the same command again to resume");
            return ExitCodes.Interrupted;
        }

        foreach (var failure in failures.OrderBy(f => f.Line).Take(FailuresListed))
            CliConsole.Error($"line {failure.Line}: failed: {failure.Msg} (code {failure.Code}{(failure.LogId is null ? "" : $", log_id {failure.LogId}")})");
        if (failures.Count > FailuresListed) CliConsole.Error($"… and {failures.Count - FailuresListed} more failures: see {resultsPath}");
        Console.Out.WriteLine($"bound {counters.Bound} now, {mapping.Rows.Count - pending.Count} earlier; failed {counters.Failed}; " +
                              $"invalid {mapping.Problems.Count}; rate-limit waits {counters.RateLimitWaits}; results in {resultsPath}");
        return counters.Failed + mapping.Problems.Count > 0 ? ExitCodes.Failed : ExitCodes.Ok;
    }

    private static async Task<BindResult> BindOneAsync(FeishuClient client, MappingRow row, UserIdType userIdType, CancellationToken ct)
    {
        try
        {
            var binding = await client.CreateExchangeBindingAsync(new CreateExchangeBindingRequest(row.AdminAccount, row.ExchangeAccount, row.UserId),
                userIdType, ct);
            return new BindResult(row.Line, row.ExchangeAccount, row.UserId, row.AdminAccount, BindResult.Bound, binding.ExchangeBindingId, binding.Status);
        }
        catch (FeishuApiException e)
        {
            return new BindResult(row.Line, row.ExchangeAccount, row.UserId, row.AdminAccount, BindResult.Failed, Code: e.Code, Msg: e.Msg, LogId: e.LogId);
        }
        catch (Exception e) when (e is HttpRequestException || e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            // The server could not be reached (or did not answer) through every retry.
            return new BindResult(row.Line, row.ExchangeAccount, row.UserId, row.AdminAccount, BindResult.Failed, Code: FeishuApiException.NoCode,
                Msg: e.Message);
        }
    }
}
