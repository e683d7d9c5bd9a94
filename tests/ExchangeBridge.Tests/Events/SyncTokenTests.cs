using System.Text.Json.Nodes;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Import;
using ExchangeBridge.Testing;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Events;

/// <summary>
/// sync_token on the calendar and event lists: a full listing ends with a token, and the token then answers what changed
/// in the simulator since, a removed event as cancelled and a removed calendar as deleted (the change log the import
/// writes with each page).
/// </summary>
public sealed class SyncTokenTests() : ImportWorldTests(SimulatedConnector.Ews)
{
    [Fact]
    public async Task A_sync_token_loop_sees_a_create_an_update_and_a_delete_the_delete_as_cancelled()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        Store.Put(calendar, Meeting("AAMkAGsync+1/A=", "Standing"));
        await BindUntilDoneAsync();
        var calendarId = await PrimaryCalendarIdAsync();
        var (all, token) = await ListEventsUntilSyncTokenAsync(calendarId, "");
        Assert.Equal(["Standing"], all.Select(Summary));

        Store.Put(calendar, Meeting("AAMkAGsync+2/A=", "Planning"));
        await World.SyncAgainAsync();
        var (created, afterCreate) = await ListEventsUntilSyncTokenAsync(calendarId, token);
        Assert.Equal(["Planning"], created.Select(Summary));
        var plannedId = created[0]["event_id"]!.GetValue<string>();

        Store.Put(calendar, Meeting("AAMkAGsync+2/A=", "Planning (moved)"));
        await World.SyncAgainAsync();
        var (updated, afterUpdate) = await ListEventsUntilSyncTokenAsync(calendarId, afterCreate);
        Assert.Equal([(plannedId, "Planning (moved)", "confirmed")], updated.Select(e => (Id(e), Summary(e), Status(e))));

        Store.Delete(calendar, "AAMkAGsync+2/A=");
        await World.SyncAgainAsync();
        var (deleted, afterDelete) = await ListEventsUntilSyncTokenAsync(calendarId, afterUpdate);
        Assert.Equal([(plannedId, "cancelled")], deleted.Select(e => (Id(e), Status(e))));

        // Nothing changed since: an empty page and a token to go on with.
        var (nothing, _) = await ListEventsUntilSyncTokenAsync(calendarId, afterDelete);
        Assert.Empty(nothing);
        // The first token still reads everything since: the three changes, the event's last state (cancelled).
        var (since, _) = await ListEventsUntilSyncTokenAsync(calendarId, token, pageSize: 1);
        Assert.Equal([(plannedId, "cancelled")], since.Select(e => (Id(e), Status(e))).Distinct());
    }

    [Fact]
    public async Task A_sync_token_with_a_time_range_is_refused_and_one_never_given_is_expired()
    {
        Store.Put(Store.DefaultFolder(Mailbox), Meeting("AAMkAGsync+1/A=", "Standing"));
        await BindUntilDoneAsync();
        var calendarId = await PrimaryCalendarIdAsync();
        var (_, token) = await ListEventsUntilSyncTokenAsync(calendarId, "");
        var events = $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events";

        await JsonAssert.ErrorAsync(await Get($"{events}?sync_token={Uri.EscapeDataString(token)}&start_time=1&end_time=2"), 400, 190009);
        await JsonAssert.ErrorAsync(await Get($"{events}?sync_token={Uri.EscapeDataString(token)}&anchor_time=1"), 400, 190009);
        await JsonAssert.ErrorAsync(await Get($"{events}?sync_token=not-a-token"), 400, 190008);
        var ahead = Convert.ToBase64String("sync:999999"u8.ToArray());
        await JsonAssert.ErrorAsync(await Get($"{events}?sync_token={Uri.EscapeDataString(ahead)}"), 400, 190008);
        // A range answers no sync token: what changes after it is the calendar's, not the range's.
        var ranged = (await JsonAssert.SuccessAsync(await Get($"{events}?start_time=0&end_time=4102444800")))["data"]!;
        Assert.Equal("", ranged["sync_token"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_sync_token_older_than_the_change_log_keeps_is_expired_and_a_full_listing_starts_again()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        Store.Put(calendar, Meeting("AAMkAGsync+1/A=", "Standing"));
        await BindUntilDoneAsync();
        var calendarId = await PrimaryCalendarIdAsync();
        var (_, token) = await ListEventsUntilSyncTokenAsync(calendarId, "");
        Store.Put(calendar, Meeting("AAMkAGsync+2/A=", "Planning"));
        await World.SyncAgainAsync();
        Assert.Equal(["Planning"], (await ListEventsUntilSyncTokenAsync(calendarId, token)).Items.Select(Summary));

        // 31 days on, the change log's 30 days have passed over both changes: the token would miss them, so it is expired.
        World.Server.Clock.Advance(TimeSpan.FromDays(31));
        _employeeToken = (await World.Server.UserTokensAsync(World.EmployeeOpenId)).AccessToken;
        var sinceToken = $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events?sync_token={Uri.EscapeDataString(token)}";
        await Eventually.TrueAsync(async () => (await Get(sinceToken)).StatusCode == System.Net.HttpStatusCode.BadRequest,
            "the log's retention to cut the token's changes");
        await JsonAssert.ErrorAsync(await Get(sinceToken), 400, 190008);

        // A full listing starts again, and its token reads on from there.
        var (all, fresh) = await ListEventsUntilSyncTokenAsync(calendarId, "");
        Assert.Equal(["Planning", "Standing"], all.Select(Summary).Order());
        Store.Put(calendar, Meeting("AAMkAGsync+3/A=", "Review"));
        await World.SyncAgainAsync();
        Assert.Equal(["Review"], (await ListEventsUntilSyncTokenAsync(calendarId, fresh)).Items.Select(Summary));
    }

    [Fact]
    public async Task Anchor_time_lists_only_the_events_that_end_after_it()
    {
        var calendar = Store.DefaultFolder(Mailbox);
        Store.Put(calendar, Meeting("AAMkAGsync+1/A=", "Before") with { Start = Monday.AddDays(-2), End = Monday.AddDays(-2).AddHours(1) });
        Store.Put(calendar, Meeting("AAMkAGsync+2/A=", "After"));
        await BindUntilDoneAsync();
        var calendarId = await PrimaryCalendarIdAsync();

        var page = (await JsonAssert.SuccessAsync(await Get(
            $"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events?anchor_time={Monday.ToUnixTimeSeconds()}")))["data"]!;
        Assert.Equal(["After"], page["items"]!.AsArray().Select(e => Summary(e!.AsObject())));
        Assert.NotEqual("", page["sync_token"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_calendar_list_sync_token_sees_a_new_a_renamed_and_a_removed_calendar()
    {
        var team = Store.AddFolder(Mailbox, "Team");
        var old = Store.AddFolder(Mailbox, "Old");
        await BindUntilDoneAsync();
        var (listed, token) = await ListCalendarsUntilSyncTokenAsync("");
        Assert.Equal(["Calendar", "Old", "Team"], listed.Select(Summary).Order());
        var oldId = listed.Single(c => Summary(c) == "Old")["calendar_id"]!.GetValue<string>();

        Store.AddFolder(Mailbox, "Project");
        Store.RenameFolder(team, "Team (2027)");
        Store.DeleteFolder(Mailbox, old);
        await World.SyncAgainAsync();

        var (changed, next) = await ListCalendarsUntilSyncTokenAsync(token);
        Assert.Equal([("Old", true), ("Project", false), ("Team (2027)", false)],
            changed.Select(c => (Summary(c), c["is_deleted"]!.GetValue<bool>())).Order());
        Assert.Equal(oldId, changed.Single(c => c["is_deleted"]!.GetValue<bool>())["calendar_id"]!.GetValue<string>());
        Assert.Empty((await ListCalendarsUntilSyncTokenAsync(next)).Items);
    }

    private string? _employeeToken;

    private Task<HttpResponseMessage> Get(string path) => World.Server.SendAsync(HttpMethod.Get, path, null, _employeeToken ?? World.EmployeeToken);

    /// <summary>A listing from a sync token ("" for a full one), page by page until the page that carries the next sync token.</summary>
    private async Task<(List<JsonObject> Items, string SyncToken)> ListEventsUntilSyncTokenAsync(string calendarId, string syncToken,
        int pageSize = 50) =>
        await ListUntilSyncTokenAsync($"/open-apis/calendar/v4/calendars/{Uri.EscapeDataString(calendarId)}/events?page_size={pageSize}",
            syncToken, "items");

    private Task<(List<JsonObject> Items, string SyncToken)> ListCalendarsUntilSyncTokenAsync(string syncToken) =>
        ListUntilSyncTokenAsync("/open-apis/calendar/v4/calendars?page_size=50", syncToken, "calendar_list");

    private async Task<(List<JsonObject> Items, string SyncToken)> ListUntilSyncTokenAsync(string path, string syncToken, string itemsName)
    {
        var items = new List<JsonObject>();
        var pageToken = "";
        for (var pages = 0; pages < 100; pages++)
        {
            var data = (await JsonAssert.SuccessAsync(await Get(
                $"{path}&sync_token={Uri.EscapeDataString(syncToken)}&page_token={Uri.EscapeDataString(pageToken)}")))["data"]!;
            items.AddRange(data[itemsName]!.AsArray().Select(i => i!.AsObject()));
            pageToken = data["page_token"]!.GetValue<string>();
            if (!data["has_more"]!.GetValue<bool>()) return (items, data["sync_token"]!.GetValue<string>());
        }
        throw new InvalidOperationException("the listing never ended");
    }

    private async Task BindUntilDoneAsync()
    {
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
    }

    private async Task<string> PrimaryCalendarIdAsync() =>
        (await World.CalendarsAsync()).Single(c => Summary(c) == "Calendar")["calendar_id"]!.GetValue<string>();

    private static SimCalendarItem Meeting(string itemId, string subject) =>
        new() { ItemId = itemId, Subject = subject, Start = Monday.AddDays(1), End = Monday.AddDays(1).AddHours(1) };

    private static string Summary(JsonObject item) => item["summary"]!.GetValue<string>();
    private static string Id(JsonObject item) => item["event_id"]!.GetValue<string>();
    private static string Status(JsonObject item) => item["status"]!.GetValue<string>();
}
