using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Admin;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// An admin account switched from one connector to the other (EWS to Graph, as every Exchange Online customer must, and
/// back): every calendar and event keeps its id, nothing is imported twice, and the sync goes on through the new one.
/// </summary>
public sealed class ConnectorSwitchTests
{
    private const string Mailbox = ImportWorld.Mailbox;
    private static readonly DateTimeOffset Monday = ImportWorld.Monday;

    public static TheoryData<string, string> Switches => new() { { AdminAccounts.Ews, AdminAccounts.Graph }, { AdminAccounts.Graph, AdminAccounts.Ews } };

    [Theory]
    [MemberData(nameof(Switches))]
    public async Task A_switch_after_done_keeps_every_calendar_and_event_id_and_later_changes_still_sync(string from, string to)
    {
        await using var simulator = await SimulatorHost.StartAsync();
        var store = simulator.Store;
        var main = store.DefaultFolder(Mailbox);
        store.Generate(main, 120, Monday); // singles, weekly series with a moved and a cancelled occurrence, all-day
        store.Put(main, Single("AAMkAGsingle+/A=", "Has both a slash and a plus"));
        var team = store.AddFolder(Mailbox, "Team");
        Assert.Contains('+', team.FolderId); // a folder id whose EWS and Graph forms differ
        store.Generate(team, 20, Monday, seed: 2);
        Connector(to).Grant(store);
        await using var world = await ImportWorld.StartAsync(simulator, Connector(from));
        await world.BindAsync();
        Assert.Equal("done", await world.WaitForStatusAsync("done", "err"));
        var before = await SnapshotAsync(world);
        Assert.Equal(store.CountImportableEvents(main) + store.CountImportableEvents(team), before.Values.Sum(c => c.Events.Count));

        // Deleted after the last sync through the old connector and before the first through the new one: the new
        // connector cannot resume the old one's sync state, and its pass from no state reports no deletions.
        Assert.True(store.Delete(main, MailboxStore.GeneratedItemId(1, 3)));
        await SwitchAsync(world, simulator, to);
        await world.SyncAgainAsync();

        var after = await SnapshotAsync(world);
        Assert.Equal(before.Keys, after.Keys);
        foreach (var (calendarId, calendar) in before)
        {
            var expected = calendar.Events.Where(e => calendar.Summary != "Calendar" || !e.Value.Contains("Generated meeting 3\"")).ToDictionary();
            // Id by id, so a difference names the event and shows its fields.
            Assert.Equal(expected.Keys.Order(), after[calendarId].Events.Keys.Order());
            foreach (var (eventId, json) in expected) Assert.Equal(json, after[calendarId].Events[eventId]);
        }
        Assert.Equal("done", (await world.DiagnosticsAsync())["status"]!.GetValue<string>());

        // Later changes come through the new connector: a change, a deletion, an addition.
        store.Put(main, Single("AAMkAGsingle+/A=", "Renamed through the new connector"));
        store.Delete(team, MailboxStore.GeneratedItemId(2, 0));
        store.Put(team, Single("AAMkAGadded/+A=", "Added through the new connector"));
        await world.SyncAgainAsync();
        var later = await SnapshotAsync(world);
        Assert.Equal(store.CountImportableEvents(main) + store.CountImportableEvents(team), later.Values.Sum(c => c.Events.Count));
        var all = later.Values.SelectMany(c => c.Events.Values).ToList();
        Assert.Contains(all, e => e.Contains("Renamed through the new connector"));
        Assert.Contains(all, e => e.Contains("Added through the new connector"));
        Assert.DoesNotContain(all, e => e.Contains("Has both a slash and a plus"));
    }

    [Theory]
    [MemberData(nameof(Switches))]
    public async Task A_switch_in_the_middle_of_an_import_imports_nothing_twice(string from, string to)
    {
        await using var simulator = await SimulatorHost.StartAsync();
        var store = simulator.Store;
        var main = store.DefaultFolder(Mailbox);
        store.Generate(main, 600, Monday);
        Connector(to).Grant(store);
        await using var world = await ImportWorld.StartAsync(simulator, Connector(from));
        await world.BindAsync();

        // Hold the import part way: every request is refused as busy, so the job stops and waits for the back-off.
        var partWay = await world.WaitForDiagnosticsAsync(d => Events(d) >= 100);
        Assert.NotEqual("done", partWay["status"]!.GetValue<string>());
        store.RefuseAsBusy(int.MaxValue, TimeSpan.FromMinutes(1));
        var held = await world.WaitForDiagnosticsAsync(d => d["jobs"]![0]!["last_error"]?.GetValue<string>()?.Contains(Connector(from).ThrottledMarker) == true);
        Assert.NotEqual("done", held["status"]!.GetValue<string>());

        store.RefuseAsBusy(0, TimeSpan.Zero);
        await SwitchAsync(world, simulator, to);
        world.Server.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal("done", await world.WaitForStatusAsync("done", "err"));

        var snapshot = await SnapshotAsync(world);
        var events = snapshot.Values.Single().Events;
        Assert.Equal(store.CountImportableEvents(main), events.Count);
        Assert.Equal(store.CountImportableEvents(main), Events(await world.DiagnosticsAsync()));
    }

    private static SimulatedConnector Connector(string name) => name == AdminAccounts.Graph ? SimulatedConnector.Graph : SimulatedConnector.Ews;

    /// <summary>Registers the admin account again through the operator API with the other connector, as an operator switches it.</summary>
    private static async Task SwitchAsync(ImportWorld world, SimulatorHost simulator, string to)
    {
        var registered = await world.RegisterAdminAsync(Connector(to).AccountBody(simulator));
        Assert.Equal((to, "verified"), (registered["connector"]!.GetValue<string>(), registered["verification_state"]!.GetValue<string>()));
    }

    private static long Events(JsonObject diagnostics) => diagnostics["calendars"]!.AsArray().Sum(c => c!["events"]!.GetValue<long>());

    private sealed record CalendarSnapshot(string Summary, Dictionary<string, string> Events);

    /// <summary>Every calendar the employee reads, by id, with every event as the Open API answers it, by id.</summary>
    private static async Task<Dictionary<string, CalendarSnapshot>> SnapshotAsync(ImportWorld world)
    {
        var snapshot = new Dictionary<string, CalendarSnapshot>();
        foreach (var calendar in await world.CalendarsAsync())
        {
            var id = calendar["calendar_id"]!.GetValue<string>();
            var events = await world.EventsAsync(id, pageSize: 1000);
            snapshot.Add(id, new CalendarSnapshot(calendar["summary"]!.GetValue<string>(),
                events.ToDictionary(e => e["event_id"]!.GetValue<string>(), e => e.ToJsonString())));
        }
        return snapshot;
    }

    private static SimCalendarItem Single(string itemId, string subject) =>
        new() { ItemId = itemId, Subject = subject, Start = Monday.AddDays(2), End = Monday.AddDays(2).AddHours(1) };
}
