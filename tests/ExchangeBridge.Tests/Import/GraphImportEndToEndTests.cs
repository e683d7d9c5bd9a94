using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Import;

/// <summary>Import end to end through Microsoft Graph (Exchange Online): the shared tests, and what is Graph's own.</summary>
public sealed class GraphImportEndToEndTests() : ImportEndToEndTests(SimulatedConnector.Graph)
{
    [Fact]
    public async Task Each_calendar_keeps_its_delta_link_and_the_next_sync_follows_it()
    {
        var store = World.Simulator.Store;
        store.Put(store.DefaultFolder(ImportWorld.Mailbox), new SimCalendarItem { ItemId = "a", Subject = "A", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1) });
        var team = store.AddFolder(ImportWorld.Mailbox, "Team");
        store.Put(team, new SimCalendarItem { ItemId = "b", Subject = "B", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1) });
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
        var first = await DeltaLinksAsync();
        Assert.Equal(2, first.Count);
        Assert.All(first.Values, link =>
        {
            Assert.StartsWith($"{World.Simulator.GraphEndpoint}/users/", link);
            Assert.Contains("/events/delta?$deltatoken=", link);
        });
        Assert.Equal(2, first.Values.Distinct().Count());

        store.Put(team, new SimCalendarItem { ItemId = "c", Subject = "C", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1) });
        await World.SyncAgainAsync();
        var second = await DeltaLinksAsync();
        Assert.Equal(first[store.DefaultFolder(ImportWorld.Mailbox).FolderId], second[store.DefaultFolder(ImportWorld.Mailbox).FolderId]);
        Assert.NotEqual(first[team.FolderId], second[team.FolderId]);
    }

    /// <summary>The stored sync state of each calendar of the binding, by its Graph calendar id.</summary>
    private async Task<Dictionary<string, string>> DeltaLinksAsync()
    {
        var calendars = World.Server.Services.GetRequiredService<CalendarStore>();
        var owned = await calendars.ListAsync(World.Server.Bootstrap.TenantKey, null, 0, 100, default);
        return owned.ToDictionary(c => c.ExchangeFolderId, c => c.SyncState!);
    }
}
