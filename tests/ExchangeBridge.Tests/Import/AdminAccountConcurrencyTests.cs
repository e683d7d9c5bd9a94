using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// An admin account's jobs follow what Exchange admits: refused for concurrency (EWSMaxConcurrency), the server runs
/// fewer of them at once instead of sending the refused ones back into the same wall.
/// </summary>
public sealed class AdminAccountConcurrencyTests() : ImportWorldTests(SimulatedConnector.Ews, new Dictionary<string, string?>
{
    ["ExchangeBridge:Import:Workers"] = "6",
    ["ExchangeBridge:Import:MaxJobsPerEwsAdminAccount"] = "6",
    ["ExchangeBridge:Import:RetryBaseMilliseconds"] = "100",
    // No growing back within the test (the server's clock moves only to the retries): what is measured is the decrease.
    ["ExchangeBridge:Import:AdminAccountGrowMilliseconds"] = "3600000",
})
{
    private const int Mailboxes = 6;
    private const int ExchangeAdmits = 2;

    [Fact]
    public async Task Refused_for_concurrency_an_admin_accounts_jobs_narrow_to_what_Exchange_admits_and_all_finish()
    {
        // Every request takes Exchange a while, so that the jobs' requests overlap; the account may hold two connections.
        var slow = TimeSpan.FromMilliseconds(40);
        Store.EnforceThrottling(ThrottlingPolicy.Unlimited with
        {
            EwsMaxConcurrency = ExchangeAdmits,
            EwsServiceTimes = new[] { "GetFolder", "FindFolder", "FindItem", "GetItem", "SyncFolderItems" }.ToDictionary(o => o, _ => slow),
        });
        var bindings = new List<string>();
        for (var i = 0; i < Mailboxes; i++)
        {
            var mailbox = $"employee{i}@contoso.com";
            Store.Generate(Store.DefaultFolder(mailbox), 80, Monday, seed: i + 1);
            bindings.Add(await World.BindForNewEmployeeAsync(mailbox, $"employee{i}"));
        }

        await RunRetriesUntilAllDoneAsync(bindings);

        // Refusals end the attempts that met them and lower the limit until it is under what Exchange admits; no job is
        // claimed past it, so the refusals number about the jobs running at first, not the attempts sent back into the wall.
        Assert.InRange(Store.ThrottlingCounters.RefusedForConcurrency, 1, Mailboxes);
    }

    /// <summary>
    /// Waits until every binding is done, moving the server's clock to a refused job's retry as soon as one waits for it,
    /// as time would pass while the others run (bounded to a minute).
    /// </summary>
    private async Task RunRetriesUntilAllDoneAsync(List<string> bindings)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var diagnostics = new List<System.Text.Json.Nodes.JsonObject>();
            foreach (var id in bindings) diagnostics.Add(await World.DiagnosticsAsync(id));
            if (diagnostics.All(d => d["status"]?.GetValue<string>() == "done")) return;
            Assert.True(DateTime.UtcNow < deadline, $"not all done: {string.Join("; ", diagnostics.Select(d => d.ToJsonString()))}");
            var now = World.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds();
            var retries = diagnostics.SelectMany(d => d["jobs"]!.AsArray())
                .Where(j => j!["kind"]!.GetValue<string>() == "import" && j["lease_owner"] is null && j["last_error"] is not null)
                .Select(j => j!["run_at"]!.GetValue<long>()).Where(at => at > now).ToList();
            if (retries.Count > 0) World.Server.Clock.Advance(TimeSpan.FromMilliseconds(retries.Min() - now + 1));
            else await Task.Delay(20);
        }
    }
}
