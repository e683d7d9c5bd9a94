using System.Text.RegularExpressions;
using ExchangeBridge.Client.Tests.Infrastructure;

namespace ExchangeBridge.Client.Tests.Cli;

/// <summary>
/// <c>exbridge bind</c> against a running server: a thousand rows with bad ones among them bind every good row exactly
/// once, every bad row is reported by its line, and a run killed halfway is finished by the next without resending
/// what it had recorded.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed partial class BindCommandTests(SharedServer fixture) : IDisposable
{
    private const int Concurrency = 4;
    private readonly string _folder = Directory.CreateTempSubdirectory("exbridge-bind-test-").FullName;

    private ServerProcess Server => fixture.Server;
    private Exbridge Cli => new(Server, _folder);

    [Fact]
    public async Task A_thousand_rows_bind_every_good_row_once_and_report_every_bad_row_by_line()
    {
        var mapping = MappingCsv.Generate("thousand", 1000);
        await Server.CreateUsersAsync(mapping.Users);
        var csv = await mapping.WriteAsync(_folder);
        var createdBefore = await Server.BindingsCreatedAsync();
        var sentBefore = await Server.BindingCreateRequestsAsync();

        var run = await Cli.RunAsync(BindArguments(csv));

        Assert.True(run.ExitCode == 1, run.ToString()); // 1: some rows were not bound
        Assert.Equal(mapping.Bad.Select(b => b.Line).Order(), ReportedLines(run.Stderr));
        foreach (var refused in mapping.Refused) Assert.Matches($"(?m)^line {refused.Line}: failed: .*code {refused.ServerCode}, log_id ", run.Stderr);
        Assert.Contains($"1000 rows: {mapping.Good.Count + mapping.Refused.Count()} to bind, 0 bound earlier, {mapping.Invalid.Count()} invalid",
            run.Stdout);
        Assert.Contains($"bound {mapping.Good.Count} now, 0 earlier; failed {mapping.Refused.Count()}; invalid {mapping.Invalid.Count()}", run.Stdout);
        AssertResultFile(mapping, ResultFile.Read(ResultsPath(csv)));
        await AssertBoundExactlyOnceAsync(mapping, createdBefore);
        // Every row that could be sent was sent once: nothing twice, nothing invalid.
        Assert.Equal(mapping.Good.Count + mapping.Refused.Count(), await Server.BindingCreateRequestsAsync() - sentBefore);
    }

    [Fact]
    public async Task Killed_halfway_the_second_run_binds_the_rest_and_resends_nothing_recorded()
    {
        var mapping = MappingCsv.Generate("killed", 1000);
        await Server.CreateUsersAsync(mapping.Users);
        var csv = await mapping.WriteAsync(_folder);
        var results = ResultsPath(csv);
        var createdBefore = await Server.BindingsCreatedAsync();
        var sentBefore = await Server.BindingCreateRequestsAsync();

        using (var first = Cli.Start(BindArguments(csv)))
        {
            await Eventually.TrueAsync(() => first.HasExited || ResultFile.Read(results).Count(r => r.Outcome == "bound") >= mapping.Good.Count / 2,
                "half the good rows recorded as bound", TimeSpan.FromMinutes(2));
            if (first.HasExited) Assert.Fail("the first run ended before it could be killed: " + await first.WaitAsync());
            first.Kill();
        }
        var atKill = ResultFile.Read(results);
        var boundAtKill = atKill.Count(r => r.Outcome == "bound");
        var failedAtKill = atKill.Count(r => r.Outcome == "failed");
        Assert.InRange(boundAtKill, mapping.Good.Count / 2, mapping.Good.Count - 1);

        var second = await Cli.RunAsync(BindArguments(csv));

        Assert.True(second.ExitCode == 1, second.ToString());
        var pending = mapping.Good.Count + mapping.Refused.Count() - boundAtKill;
        Assert.Contains($"1000 rows: {pending} to bind, {boundAtKill} bound earlier, {mapping.Invalid.Count()} invalid", second.Stdout);
        Assert.Contains($"bound {mapping.Good.Count - boundAtKill} now, {boundAtKill} earlier; failed {mapping.Refused.Count()}", second.Stdout);
        Assert.Equal(mapping.Bad.Select(b => b.Line).Order(), ReportedLines(second.Stderr));
        AssertResultFile(mapping, ResultFile.Read(results));
        await AssertBoundExactlyOnceAsync(mapping, createdBefore);
        // Sent: every row once, the refused ones the first run recorded once more, and at most the creates that were in
        // flight when it was killed (answered by the server, never recorded), which must be asked again.
        var necessary = mapping.Good.Count + mapping.Refused.Count() + failedAtKill;
        Assert.InRange(await Server.BindingCreateRequestsAsync() - sentBefore, necessary, necessary + Concurrency);
    }

    [Fact]
    public async Task An_unknown_column_refuses_the_whole_file_and_sends_nothing()
    {
        var csv = Path.Combine(_folder, "departments.csv");
        await File.WriteAllTextAsync(csv, "exchange_account,user_id,department\nalice@contoso.example,alice,Sales\n");
        var sentBefore = await Server.BindingCreateRequestsAsync();

        var run = await Cli.RunAsync(BindArguments(csv));

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("line 1: unknown column 'department'", run.Stderr);
        Assert.False(File.Exists(ResultsPath(csv)));
        Assert.Equal(sentBefore, await Server.BindingCreateRequestsAsync());
    }

    private static string[] BindArguments(string csv) =>
        ["bind", "--csv", csv, "--admin-account", ServerProcess.DemoAdminAccount, "--concurrency", Concurrency.ToString()];

    private static string ResultsPath(string csv) => Path.ChangeExtension(csv, ".results.csv");

    /// <summary>The line numbers of the rows exbridge reported as bad ("line N: …" on standard error), in order.</summary>
    private static IEnumerable<int> ReportedLines(string stderr) =>
        ReportedLine().Matches(stderr).Select(m => int.Parse(m.Groups[1].Value)).Order().ToList();

    [GeneratedRegex(@"(?m)^line (\d+): ")]
    private static partial Regex ReportedLine();

    /// <summary>One result per row: the good ones bound with their documented ids, the bad ones invalid or failed with the server's code.</summary>
    private static void AssertResultFile(MappingCsv mapping, IReadOnlyList<ResultRow> results)
    {
        Assert.Equal(mapping.Good.Count + mapping.Bad.Count, results.Count);
        var byLine = results.ToDictionary(r => r.Line);
        foreach (var good in mapping.Good)
            Assert.Equal(("bound", good.ExchangeBindingId, good.UserId), (byLine[good.Line].Outcome, byLine[good.Line].ExchangeBindingId, byLine[good.Line].UserId));
        foreach (var bad in mapping.Bad)
            Assert.Equal(bad.ServerCode is { } code ? ("failed", code.ToString()) : ("invalid", ""), (byLine[bad.Line].Outcome, byLine[bad.Line].Code));
    }

    /// <summary>
    /// Asks the server, not exbridge: each good row's binding exists for its user, no bad row's mailbox is bound, and the
    /// server inserted as many bindings as there are good rows (a repeated create answers the existing binding and
    /// inserts nothing, so a duplicate would show here).
    /// </summary>
    private async Task AssertBoundExactlyOnceAsync(MappingCsv mapping, long createdBefore)
    {
        Assert.Equal(mapping.Good.Count, await Server.BindingsCreatedAsync() - createdBefore);
        using var client = await Server.SuperAdminClientAsync();
        await Parallel.ForEachAsync(mapping.Good, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (row, ct) =>
        {
            var binding = await client.GetExchangeBindingAsync(row.ExchangeBindingId, UserIdType.UserId, ct);
            Assert.Equal((row.UserId, ExchangeBindingStatus.Doing), (binding.UserId, binding.Status));
            Assert.Equal(row.ExchangeAccount, binding.ExchangeAccount, ignoreCase: true);
        });
        foreach (var account in mapping.Bad.Select(b => b.ExchangeAccount).OfType<string>().Distinct())
        {
            var e = await Assert.ThrowsAsync<FeishuApiException>(() => client.GetExchangeBindingAsync(Ids.Binding(ServerProcess.DemoAdminAccount, account)));
            Assert.Equal(195103, e.Code);
        }
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
