using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

public sealed class EwsFolderLifecycleTests() : FolderLifecycleTests(SimulatedConnector.Ews);

public sealed class GraphFolderLifecycleTests() : FolderLifecycleTests(SimulatedConnector.Graph);

/// <summary>
/// Calendar folders made, renamed and deleted in Exchange after a binding is done reach the employee's calendars on the
/// next sync, and one folder's trouble never holds up the others. Through each connector.
/// </summary>
public abstract class FolderLifecycleTests(SimulatedConnector connector) : IAsyncLifetime
{
    private const string Mailbox = ImportWorld.Mailbox;
    private static readonly DateTimeOffset Monday = ImportWorld.Monday;

    private SimulatorHost _simulator = null!;
    private ImportWorld _world = null!;

    private MailboxStore Store => _simulator.Store;

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorHost.StartAsync();
        _world = await ImportWorld.StartAsync(_simulator, connector);
    }

    public async Task DisposeAsync()
    {
        await _world.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task A_folder_made_after_done_is_imported_as_a_new_calendar_on_the_next_sync()
    {
        Store.Put(Store.DefaultFolder(Mailbox), Meeting("AAMkAGmain+1/A=", "Main"));
        await BindUntilDoneAsync();
        Assert.Equal(["Calendar"], (await _world.CalendarsAsync()).Select(Summary));

        var project = Store.AddFolder(Mailbox, "Project");
        Store.Put(project, Meeting("AAMkAGproj+1/A=", "Kick-off"));
        Store.Put(project, Meeting("AAMkAGproj+2/A=", "Review"));
        await _world.SyncAgainAsync();

        var calendars = await _world.CalendarsAsync();
        Assert.Equal(["Calendar", "Project"], calendars.Select(Summary).Order());
        var imported = await _world.EventsAsync(CalendarId(calendars, "Project"));
        Assert.Equal(["Kick-off", "Review"], imported.Select(e => e["summary"]!.GetValue<string>()).Order());
        Assert.Equal("done", await _world.WaitForStatusAsync("done", "err"));

        // And it syncs on like any other.
        Store.Put(project, Meeting("AAMkAGproj+3/A=", "Retro"));
        await _world.SyncAgainAsync();
        Assert.Equal(3, (await _world.EventsAsync(CalendarId(await _world.CalendarsAsync(), "Project"))).Count);
    }

    [Fact]
    public async Task A_renamed_folder_renames_its_calendar_and_keeps_its_id_and_events()
    {
        var team = Store.AddFolder(Mailbox, "Team");
        Store.Put(team, Meeting("AAMkAGteam+1/A=", "Offsite"));
        await BindUntilDoneAsync();
        var before = await _world.CalendarsAsync();
        var teamId = CalendarId(before, "Team");
        var eventIds = (await _world.EventsAsync(teamId)).Select(e => e["event_id"]!.GetValue<string>()).ToList();

        Store.RenameFolder(team, "Team (2027)");
        await _world.SyncAgainAsync();

        var after = await _world.CalendarsAsync();
        Assert.Equal(["Calendar", "Team (2027)"], after.Select(Summary).Order());
        Assert.Equal(teamId, CalendarId(after, "Team (2027)"));
        Assert.Equal(eventIds, (await _world.EventsAsync(teamId)).Select(e => e["event_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_deleted_secondary_folder_goes_with_its_events_while_the_binding_stays_done_and_the_primary_syncs_on()
    {
        var main = Store.DefaultFolder(Mailbox);
        Store.Put(main, Meeting("AAMkAGmain+1/A=", "Main"));
        var team = Store.AddFolder(Mailbox, "Team");
        Store.Put(team, Meeting("AAMkAGteam+1/A=", "Offsite"));
        await BindUntilDoneAsync();
        var teamId = CalendarId(await _world.CalendarsAsync(), "Team");

        Store.DeleteFolder(Mailbox, team);
        Store.Put(main, Meeting("AAMkAGmain+2/A=", "After the deletion"));
        await _world.SyncAgainAsync();

        var calendars = await _world.CalendarsAsync();
        Assert.Equal(["Calendar"], calendars.Select(Summary));
        var gone = await _world.Server.SendAsync(HttpMethod.Get, $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(teamId)}/events",
            null, await EmployeeTokenAsync());
        Assert.NotEqual(0, (await TestServer.ReadAsync(gone))["code"]!.GetValue<int>());
        Assert.Equal(["After the deletion", "Main"],
            (await _world.EventsAsync(CalendarId(calendars, "Calendar"))).Select(e => e["summary"]!.GetValue<string>()).Order());
        var diagnostics = await _world.DiagnosticsAsync();
        Assert.Equal("done", diagnostics["status"]!.GetValue<string>());
        Assert.Null(diagnostics["error_reason"]?.GetValue<string>());

        // The primary keeps syncing on later runs too.
        Store.Put(main, Meeting("AAMkAGmain+3/A=", "Later"));
        await _world.SyncAgainAsync();
        Assert.Equal(3, (await _world.EventsAsync(CalendarId(await _world.CalendarsAsync(), "Calendar"))).Count);
        Assert.Equal("done", (await _world.DiagnosticsAsync())["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_folder_made_again_with_a_deleted_ones_name_is_a_new_calendar()
    {
        var team = Store.AddFolder(Mailbox, "Team");
        Store.Put(team, Meeting("AAMkAGteam+1/A=", "Old"));
        await BindUntilDoneAsync();
        var oldId = CalendarId(await _world.CalendarsAsync(), "Team");

        Store.DeleteFolder(Mailbox, team);
        Store.Put(Store.AddFolder(Mailbox, "Team"), Meeting("AAMkAGteam+2/A=", "New"));
        await _world.SyncAgainAsync();

        var calendars = await _world.CalendarsAsync();
        var newId = CalendarId(calendars, "Team");
        Assert.NotEqual(oldId, newId);
        Assert.Equal(["New"], (await _world.EventsAsync(newId)).Select(e => e["summary"]!.GetValue<string>()));
    }

    private async Task BindUntilDoneAsync()
    {
        await _world.BindAsync();
        Assert.Equal("done", await _world.WaitForStatusAsync("done", "err"));
    }

    private async Task<string> EmployeeTokenAsync() => (await _world.Server.UserTokensAsync(_world.EmployeeOpenId)).AccessToken;

    private static SimCalendarItem Meeting(string itemId, string subject) =>
        new() { ItemId = itemId, Subject = subject, Start = Monday.AddDays(1), End = Monday.AddDays(1).AddHours(1) };

    private static string Summary(JsonObject calendar) => calendar["summary"]!.GetValue<string>();

    private static string CalendarId(IEnumerable<JsonObject> calendars, string summary) =>
        calendars.Single(c => Summary(c) == summary)["calendar_id"]!.GetValue<string>();
}
