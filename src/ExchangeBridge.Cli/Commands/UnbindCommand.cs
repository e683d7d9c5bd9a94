using System.CommandLine;
using ExchangeBridge.Cli.Binding;
using ExchangeBridge.Cli.Output;
using ExchangeBridge.Client;

namespace ExchangeBridge.Cli.Commands;

/// <summary><c>exbridge unbind</c>: removes bindings (and what they imported); one not bound (195103) is already where it should be.</summary>
internal static class UnbindCommand
{
    private const int BindingNotFound = 195103;

    public static Command Create()
    {
        var ids = new Argument<string[]>("exchange_binding_id") { Arity = ArgumentArity.ZeroOrMore, Description = "Bindings by id" };
        var csv = new Option<FileInfo?>("--csv") { Description = "Bindings of a bind result file, or of a mapping CSV" };
        var adminAccount = new Option<string?>("--admin-account") { Description = "With a mapping CSV: the admin account of rows without one" };
        var concurrency = new Option<int>("--concurrency") { Description = "Deletes in flight at once", DefaultValueFactory = _ => 4 };
        var command = new Command("unbind", "Remove bindings, with the calendars they imported") { ids, csv, adminAccount, concurrency };
        command.SetAction((parse, ct) => Commands.Run(() => RunAsync(new Connection(parse),
            BindingTargets.From(parse.GetValue(ids) ?? [], parse.GetValue(csv), parse.GetValue(adminAccount)), parse.GetValue(concurrency), ct)));
        return command;
    }

    private static async Task<int> RunAsync(Connection connection, IReadOnlyList<BindingTarget> targets, int concurrency, CancellationToken ct)
    {
        if (targets.Count == 0) throw new UsageException("name the bindings: ids, or --csv with a bind result file or a mapping");
        if (concurrency is < 1 or > 64) throw new UsageException("--concurrency must be 1..64");
        using var client = await connection.UserClientAsync(ct, maxRetries: 10);
        var failed = 0;
        var output = new object();
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct }, async (target, token) =>
        {
            string line;
            try
            {
                await client.DeleteExchangeBindingAsync(target.ExchangeBindingId, token);
                line = $"unbound {target.ExchangeBindingId}";
            }
            catch (FeishuApiException e) when (e.Code == BindingNotFound)
            {
                line = $"not bound {target.ExchangeBindingId}";
            }
            catch (FeishuApiException e)
            {
                Interlocked.Increment(ref failed);
                CliConsole.Error($"failed {target.ExchangeBindingId}: {e.Message}");
                return;
            }
            lock (output) Console.Out.WriteLine(line);
        });
        return failed > 0 ? ExitCodes.Failed : ExitCodes.Ok;
    }
}
