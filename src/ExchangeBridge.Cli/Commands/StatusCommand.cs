using System.CommandLine;
using System.Text.Json;
using ExchangeBridge.Cli.Binding;
using ExchangeBridge.Cli.Output;
using ExchangeBridge.Client;
using Spectre.Console;

namespace ExchangeBridge.Cli.Commands;

/// <summary><c>exbridge status</c>: each binding's import status, as a table or JSON; <c>--watch</c> until all are done or err.</summary>
internal static class StatusCommand
{
    private const int ReadConcurrency = 4;

    public static Command Create()
    {
        var ids = new Argument<string[]>("exchange_binding_id") { Arity = ArgumentArity.ZeroOrMore, Description = "Bindings by id" };
        var csv = new Option<FileInfo?>("--csv") { Description = "Bindings of a bind result file, or of a mapping CSV" };
        var adminAccount = new Option<string?>("--admin-account") { Description = "With a mapping CSV: the admin account of rows without one" };
        var json = Options.Json();
        var watch = new Option<bool>("--watch") { Description = "Read again every --interval until every binding is done or err" };
        var interval = new Option<int>("--interval") { Description = "Seconds between reads with --watch", DefaultValueFactory = _ => 5 };
        var userIdType = Options.UserIdType("How user ids are shown");
        var tenant = new Option<string?>("--tenant")
        {
            Description = "With --operator-key: the tenant_key whose view shows why a binding is err or late (found when not given)",
        };
        var command = new Command("status", "Show bindings' import status") { ids, csv, adminAccount, json, watch, interval, userIdType, tenant };
        command.SetAction((parse, ct) => Commands.Run(() => RunAsync(new Connection(parse),
            BindingTargets.From(parse.GetValue(ids) ?? [], parse.GetValue(csv), parse.GetValue(adminAccount)), parse.GetValue(json),
            parse.GetValue(watch), parse.GetValue(interval), Options.ParseUserIdType(parse.GetValue(userIdType)), parse.GetValue(tenant), ct)));
        return command;
    }

    private static async Task<int> RunAsync(Connection connection, IReadOnlyList<BindingTarget> targets, bool json, bool watch, int interval,
        UserIdType userIdType, string? tenant, CancellationToken ct)
    {
        if (targets.Count == 0) throw new UsageException("name the bindings: ids, or --csv with a bind result file or a mapping");
        if (interval < 1) throw new UsageException("--interval must be at least 1 second");
        if (tenant is not null && !connection.HasOperatorKey) throw new UsageException("--tenant shows the operator's view: it needs --operator-key");
        using var client = await connection.UserClientAsync(ct);
        // With the operator key, each binding's reason and next attempt are shown; the tenant is found when not given.
        using var operatorClient = connection.HasOperatorKey ? connection.OperatorClient() : null;
        tenant ??= operatorClient is null ? null : await TenantOfAsync(operatorClient, targets, ct);
        Task<IReadOnlyList<BindingStatusRow>> ReadAsync() => StatusCommand.ReadAsync(client, operatorClient, tenant, targets, userIdType, ct);
        IReadOnlyList<BindingStatusRow> rows;
        if (watch && CliConsole.IsTerminal && !json)
        {
            rows = [];
            await CliConsole.Out.Live(Table([])).StartAsync(async live =>
            {
                while (true)
                {
                    rows = await ReadAsync();
                    live.UpdateTarget(Table(rows));
                    if (rows.All(r => r.IsSettled)) return;
                    await Task.Delay(TimeSpan.FromSeconds(interval), ct);
                }
            });
            return ExitCode(rows);
        }

        while (true)
        {
            rows = await ReadAsync();
            if (!watch || rows.All(r => r.IsSettled)) break;
            // Redirected or JSON: a summary line per round (on standard error when standard output carries the JSON).
            var summary = "status: " + string.Join(", ", rows.GroupBy(r => r.Status ?? "unreadable").OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}"));
            (json ? Console.Error : Console.Out).WriteLine(summary);
            await Task.Delay(TimeSpan.FromSeconds(interval), ct);
        }
        if (json) Console.Out.WriteLine(JsonSerializer.Serialize(rows, CliJsonContext.Default.IReadOnlyListBindingStatusRow));
        else CliConsole.Out.Write(Table(rows));
        return ExitCode(rows);
    }

    private static int ExitCode(IReadOnlyList<BindingStatusRow> rows) =>
        rows.Any(r => r.Code is not null || r.Status == ExchangeBindingStatus.Err) ? ExitCodes.Failed : ExitCodes.Ok;

    private static async Task<IReadOnlyList<BindingStatusRow>> ReadAsync(FeishuClient client, ExchangeBridgeOperatorClient? operatorClient,
        string? tenant, IReadOnlyList<BindingTarget> targets, UserIdType userIdType, CancellationToken ct)
    {
        var rows = new BindingStatusRow[targets.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, targets.Count), new ParallelOptions { MaxDegreeOfParallelism = ReadConcurrency, CancellationToken = ct },
            async (i, token) =>
            {
                var target = targets[i];
                try
                {
                    var b = await client.GetExchangeBindingAsync(target.ExchangeBindingId, userIdType, token);
                    var sync = operatorClient is null || tenant is null ? null
                        : await operatorClient.GetBindingDiagnosticsAsync(tenant, b.ExchangeBindingId, token);
                    rows[i] = new BindingStatusRow(b.ExchangeBindingId, b.ExchangeAccount, b.UserId, b.AdminAccount, b.Status, Sync: sync);
                }
                catch (FeishuApiException e) when (!e.IsRateLimited)
                {
                    rows[i] = new BindingStatusRow(target.ExchangeBindingId, target.ExchangeAccount, target.UserId, null, null, e.Code, e.Msg);
                }
            });
        return rows;
    }

    /// <summary>
    /// The tenant whose operator's view to show when none was named: the only tenant, or the first in which the first binding
    /// is found; null when none has it (the table then has no "why").
    /// </summary>
    private static async Task<string?> TenantOfAsync(ExchangeBridgeOperatorClient operators, IReadOnlyList<BindingTarget> targets, CancellationToken ct)
    {
        var tenants = await operators.ListTenantsAsync(ct);
        if (tenants.Count == 1) return tenants[0].TenantKey;
        foreach (var candidate in tenants)
        {
            try
            {
                await operators.GetBindingDiagnosticsAsync(candidate.TenantKey, targets[0].ExchangeBindingId, ct);
                return candidate.TenantKey;
            }
            catch (FeishuApiException e) when (!e.IsRateLimited)
            {
                // Not this tenant's.
            }
        }
        return null;
    }

    /// <summary>
    /// Why a binding is err (its reason: the kind, what happened, what to do) and when it is tried next, or how late its sync
    /// is (last success, last error, next attempt); empty when in sync.
    /// </summary>
    private static string Why(BindingDiagnostics sync)
    {
        static string At(long? ms) => ms is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t).ToString("u") : "never";
        if (sync.ErrorReason is { } reason) return $"{reason} Next attempt {At(sync.NextAttemptAt)}.";
        if (sync.LastError is not { } error) return "";
        return $"late: last synced {At(sync.LastSyncedAt)}; {sync.Attempts} attempt(s) since, the last: {error}; next {At(sync.NextAttemptAt)}";
    }

    private static Table Table(IReadOnlyList<BindingStatusRow> rows)
    {
        var table = new Table().AddColumns("exchange_account", "user_id", "status", "exchange_binding_id");
        if (rows.Any(r => r.Sync is not null)) table.AddColumn("why");
        foreach (var r in rows)
        {
            var status = r.Status switch
            {
                null => $"[red]{Markup.Escape($"{r.Msg} ({r.Code})")}[/]",
                ExchangeBindingStatus.Done => "[green]done[/]",
                ExchangeBindingStatus.Err => "[red]err[/]",
                var s => Markup.Escape(s),
            };
            string[] cells = [Markup.Escape(r.ExchangeAccount ?? ""), Markup.Escape(r.UserId ?? ""), status, Markup.Escape(r.ExchangeBindingId)];
            table.AddRow(r.Sync is null ? cells : [.. cells, Markup.Escape(Why(r.Sync))]);
        }
        return table;
    }
}
