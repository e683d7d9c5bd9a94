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
public abstract class FolderLifecycleTests(SimulatedConnector connector) : ImportWorldTests(connector)
{
    [Fact]
    public async Task A_folder_made_after_done_is_imported_as_a_new_calendar_on_the_next_sync()
    {
        Store.Put(Store.DefaultFolder(Mailbox), Meeting("AAMkAGmain+1/A=", "Main"));
        await BindUntilDoneAsync();
        Assert.Equal(["Calendar"], (await World.CalendarsAsync()).Select(Summary));

        var project = Store.AddFolder(Mailbox, "Project");
        Store.Put(project, Meeting("AAMkAGproj+1/A=", "Kick-off"));
        Store.Put(project, Meeting("AAMkAGproj+2/A=", "Review"));
        await World.SyncAgainAsync();

        var calendars = await World.CalendarsAsync();
        Assert.Equal(["Calendar", "Project"], calendars.Select(Summary).Order());
        var imported = await World.EventsAsync(CalendarId(calendars, "Project"));
        Assert.Equal(["Kick-off", "Review"], imported.Select(e => e["summary"]!.GetValue<string>()).Order());
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));

        // And it syncs on like any other.
        Store.Put(project, Meeting("AAMkAGproj+3/A=", "Retro"));
        await World.SyncAgainAsync();
        Assert.Equal(3, (await World.EventsAsync(CalendarId(await World.CalendarsAsync(), "Project"))).Count);
    }

    [Fact]
    public async Task A_renamed_folder_renames_its_calendar_and_keeps_its_id_and_events()
    {
        var team = Store.AddFolder(Mailbox, "Team");
        Store.Put(team, Meeting("AAMkAGteam+1/A=", "Offsite"));
        await BindUntilDoneAsync();
        var before = await World.CalendarsAsync();
        var teamId = CalendarId(before, "Team");
        var eventIds = (await World.EventsAsync(teamId)).Select(e => e["event_id"]!.GetValue<string>()).ToList();

        Store.RenameFolder(team, "Team (2027)");
        await World.SyncAgainAsync();

        var after = await World.CalendarsAsync();
        Assert.Equal(["Calendar", "Team (2027)"], after.Select(Summary).Order());
        Assert.Equal(teamId, CalendarId(after, "Team (2027)"));
        Assert.Equal(eventIds, (await World.EventsAsync(teamId)).Select(e => e["event_id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_deleted_secondary_folder_goes_with_its_events_while_the_binding_stays_done_and_the_primary_syncs_on()
    {
        var main = Store.DefaultFolder(Mailbox);
        Store.Put(main, Meeting("AAMkAGmain+1/A=", "Main"));
        var team = Store.AddFolder(Mailbox, "Team");
        Store.Put(team, Meeting("AAMkAGteam+1/A=", "Offsite"));
        await BindUntilDoneAsync();
        var teamId = CalendarId(await World.CalendarsAsync(), "Team");

        Store.DeleteFolder(Mailbox, team);
        Store.Put(main, Meeting("AAMkAGmain+2/A=", "After the deletion"));
        await World.SyncAgainAsync();

        var calendars = await World.CalendarsAsync();
        Assert.Equal(["Calendar"], calendars.Select(Summary));
        var gone = await World.Server.SendAsync(HttpMethod.Get, $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(teamId)}/events",
            null, await EmployeeTokenAsync());
        Assert.NotEqual(0, (await TestServer.ReadAsync(gone))["code"]!.GetValue<int>());
        Assert.Equal(["After the deletion", "Main"],
            (await World.EventsAsync(CalendarId(calendars, "Calendar"))).Select(e => e["summary"]!.GetValue<string>()).Order());
        var diagnostics = await World.DiagnosticsAsync();
        Assert.Equal("done", diagnostics["status"]!.GetValue<string>());
        Assert.Null(diagnostics["error_reason"]?.GetValue<string>());

        // The primary keeps syncing on later runs too.
        Store.Put(main, Meeting("AAMkAGmain+3/A=", "Later"));
        await World.SyncAgainAsync();
        Assert.Equal(3, (await World.EventsAsync(CalendarId(await World.CalendarsAsync(), "Calendar"))).Count);
        Assert.Equal("done", (await World.DiagnosticsAsync())["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_folder_made_again_with_a_deleted_ones_name_is_a_new_calendar()
    {
        var team = Store.AddFolder(Mailbox, "Team");
        Store.Put(team, Meeting("AAMkAGteam+1/A=", "Old"));
        await BindUntilDoneAsync();
        var oldId = CalendarId(await World.CalendarsAsync(), "Team");

        Store.DeleteFolder(Mailbox, team);
        Store.Put(Store.AddFolder(Mailbox, "Team"), Meeting("AAMkAGteam+2/A=", "New"));
        await World.SyncAgainAsync();

        var calendars = await World.CalendarsAsync();
        var newId = CalendarId(calendars, "Team");
        Assert.NotEqual(oldId, newId);
        Assert.Equal(["New"], (await World.EventsAsync(newId)).Select(e => e["summary"]!.GetValue<string>()));
    }

    private async Task BindUntilDoneAsync()
    {
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
    }

    private async Task<string> EmployeeTokenAsync() => (await World.Server.UserTokensAsync(World.EmployeeOpenId)).AccessToken;

    private static SimCalendarItem Meeting(string itemId, string subject) =>
        new() { ItemId = itemId, Subject = subject, Start = Monday.AddDays(1), End = Monday.AddDays(1).AddHours(1) };

    private static string Summary(JsonObject calendar) => calendar["summary"]!.GetValue<string>();

    private static string CalendarId(IEnumerable<JsonObject> calendars, string summary) =>
        calendars.Single(c => Summary(c) == summary)["calendar_id"]!.GetValue<string>();
}
