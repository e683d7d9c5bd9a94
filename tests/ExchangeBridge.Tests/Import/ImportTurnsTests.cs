using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// A run hands its worker back when its turn is over and other jobs are due (ImportOptions.TurnMilliseconds): a small
/// mailbox bound while a large one imports is done long before it, instead of waiting for the large one to run to its end.
/// </summary>
public sealed class ImportTurnsTests() : ImportWorldTests(SimulatedConnector.Ews, new Dictionary<string, string?>
{
    ["ExchangeBridge:Import:Workers"] = "1", // one place: without turns the small mailbox waits for the large one's end
    ["ExchangeBridge:Import:TurnMilliseconds"] = "0", // a turn is one page, once another job is due
})
{
    private const string SmallMailbox = "small@contoso.com";

    [Fact]
    public async Task A_small_mailbox_bound_while_a_large_one_imports_is_done_first_and_the_large_one_loses_nothing()
    {
        var large = Store.DefaultFolder(Mailbox);
        Store.Generate(large, 600, Monday);
        // Exchange takes a moment per page listed, so the large import (about 170 pages of 7) is still going when the small
        // mailbox is bound.
        Store.EnforceThrottling(ThrottlingPolicy.Unlimited with
        {
            EwsServiceTimes = new Dictionary<string, TimeSpan> { ["FindItem"] = TimeSpan.FromMilliseconds(10), ["SyncFolderItems"] = TimeSpan.FromMilliseconds(10) },
        });
        var small = Store.DefaultFolder(SmallMailbox);
        Store.Generate(small, 3, Monday, seed: 2);

        await World.BindAsync();
        var partWay = await World.WaitForDiagnosticsAsync(d => Events(d) > 0);
        Assert.NotEqual("done", partWay["status"]!.GetValue<string>());
        var smallBinding = await World.BindForNewEmployeeAsync(SmallMailbox, "small");

        var smallDone = await World.WaitForDiagnosticsAsync(d => d["status"]!.GetValue<string>() == "done", smallBinding);
        Assert.Equal("done", smallDone["status"]!.GetValue<string>());
        var largeThen = await World.DiagnosticsAsync();
        Assert.NotEqual("done", largeThen["status"]!.GetValue<string>());
        Assert.Equal(Store.CountImportableEvents(small), Events(smallDone));

        // The large import went on from where each turn ended: every event once.
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
        // The run's last page says done; the job's counts are cleared when it records the sync, a moment after.
        var largeDone = await World.WaitForDiagnosticsAsync(d => d["last_synced_at"] is not null);
        Assert.Equal(Store.CountImportableEvents(large), Events(largeDone));
        var job = largeDone["jobs"]!.AsArray().Single()!;
        Assert.Null(job["last_error"]);
        Assert.Equal(0, job["attempts"]!.GetValue<int>());
    }

    private static long Events(JsonObject diagnostics) => diagnostics["calendars"]!.AsArray().Sum(c => c!["events"]!.GetValue<long>());
}
