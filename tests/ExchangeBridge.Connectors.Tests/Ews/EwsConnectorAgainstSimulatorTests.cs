using System.Xml.Linq;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Ews;
using ExchangeBridge.ExchangeSimulator;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>The EWS connector end to end against the simulator over real HTTP.</summary>
public class EwsConnectorAgainstSimulatorTests
{
    private const string Alisa = "alisa@contoso.com";
    private static readonly DateTimeOffset Monday = new(2026, 11, 30, 1, 0, 0, TimeSpan.Zero); // 09:00 in Shanghai
    private static readonly XNamespace T = "http://schemas.microsoft.com/exchange/services/2006/types";
    private static readonly XNamespace M = "http://schemas.microsoft.com/exchange/services/2006/messages";

    [Fact]
    public async Task Admin_is_verified_against_its_own_mailbox_without_impersonation()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync();
        await sim.Connector.VerifyAdminAsync(sim.Admin, default);
        var sent = Assert.Single(sim.Sent);
        Assert.DoesNotContain("ExchangeImpersonation", sent.Body);
        Assert.Contains("Exchange2013_SP1", sent.Body);
        Assert.StartsWith("Basic ", sent.Authorization);
    }

    [Fact]
    public async Task Wrong_password_is_Unauthorized_and_the_password_appears_nowhere_in_the_error()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync();
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => sim.Connector.VerifyAdminAsync(sim.AdminWith("hunter2-wrong"), default));
        Assert.Equal(ExchangeFailureKind.Unauthorized, e.Kind);
        Assert.DoesNotContain("hunter2", e.ToString());
        Assert.False(e.IsRetryable);
    }

    [Fact]
    public async Task Calendar_folders_are_the_default_calendar_and_its_subfolders_reached_by_impersonation()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store =>
        {
            store.AddMailbox(Alisa);
            store.AddFolder(Alisa, "Team");
            store.AddFolder(Alisa, "Holidays");
        });
        var folders = await sim.Connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default);
        Assert.Equal(sim.Store.DefaultFolder(Alisa).FolderId, Assert.Single(folders, f => f.IsDefault).FolderId);
        Assert.Equal(["Holidays", "Team"], folders.Where(f => !f.IsDefault).Select(f => f.DisplayName).Order());
        Assert.All(sim.Sent, s =>
        {
            Assert.Equal(Alisa, s.AnchorMailbox);
            Assert.Equal(Alisa, XDocument.Parse(s.Body).Descendants(T + "PrimarySmtpAddress").Single().Value);
        });
    }

    [Fact]
    public async Task Window_pages_by_offset_and_lists_every_master_even_outside_the_window()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store =>
        {
            var calendar = store.DefaultFolder(Alisa);
            for (var i = 0; i < 23; i++) store.Put(calendar, Single($"in-{i}", Monday.AddDays(i)));
            store.Put(calendar, Single("before", Monday.AddDays(-40)));
            store.Put(calendar, Single("after", Monday.AddDays(400)));
            store.Put(calendar, Single("straddles", Monday.AddDays(-1).AddHours(-1)) with { End = Monday.AddHours(1) });
            store.Put(calendar, Single("old-series", Monday.AddYears(-3)) with
            {
                Recurrence = new SimRecurrence("<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>",
                    "<t:NoEndRecurrence><t:StartDate>2023-11-30</t:StartDate></t:NoEndRecurrence>"),
            });
        });
        var folder = sim.Store.DefaultFolder(Alisa).FolderId;

        var seen = new List<string>();
        var offsets = new List<int>();
        int? offset = 0;
        while (offset is { } current)
        {
            offsets.Add(current);
            var page = await sim.Connector.FindItemsInWindowAsync(sim.Admin, Alisa, folder, Monday.AddDays(-1), Monday.AddDays(60), current, 10, default);
            Assert.True(page.Items.Count <= 10);
            seen.AddRange(page.Items.Select(i => i.ItemId));
            offset = page.NextOffset;
        }
        Assert.Equal([0, 10, 20], offsets);
        Assert.Equal(25, seen.Count);
        Assert.Contains("old-series", seen);
        Assert.Contains("straddles", seen);
        Assert.DoesNotContain("before", seen);
        Assert.DoesNotContain("after", seen);
        var request = XDocument.Parse(sim.Sent.First().Body).Descendants(M + "FindItem").Single();
        Assert.Equal("Shallow", (string?)request.Attribute("Traversal"));
        Assert.Equal("IdOnly", request.Descendants(T + "BaseShape").Single().Value);
    }

    [Fact]
    public async Task Sync_pages_from_nothing_then_reports_updates_deletes_and_creates()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store =>
        {
            var calendar = store.DefaultFolder(Alisa);
            for (var i = 0; i < 30; i++) store.Put(calendar, Single($"item-{i:D2}", Monday.AddDays(i)));
        });
        var calendar = sim.Store.DefaultFolder(Alisa);

        var (created, _, state) = await SyncToEnd(sim, calendar.FolderId, null, maxChanges: 8);
        Assert.Equal(30, created.Select(r => r.ItemId).Distinct().Count());

        var changed = sim.Store.Put(calendar, Single("item-03", Monday.AddDays(3)) with { Subject = "Renamed" });
        sim.Store.Delete(calendar, "item-04");
        var added = sim.Store.Put(calendar, Single("item-new", Monday.AddDays(40)));

        var (updated, deleted, _) = await SyncToEnd(sim, calendar.FolderId, state, maxChanges: 8);
        Assert.Equal([new ItemRef("item-03", changed.ChangeKey), new ItemRef("item-new", added.ChangeKey)], updated.OrderBy(r => r.ItemId).ToList());
        Assert.Equal(["item-04"], deleted);
    }

    [Fact]
    public async Task Sync_asks_for_at_most_512_changes()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.AddMailbox(Alisa));
        await sim.Connector.SyncFolderAsync(sim.Admin, Alisa, sim.Store.DefaultFolder(Alisa).FolderId, null, 5000, default);
        Assert.Equal("512", XDocument.Parse(sim.Sent.Single().Body).Descendants(M + "MaxChangesReturned").Single().Value);
    }

    [Fact]
    public async Task A_master_comes_back_with_its_exceptions_and_deleted_occurrences()
    {
        var moved = Monday.AddDays(7);
        var cancelled = Monday.AddDays(14);
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.Put(store.DefaultFolder(Alisa), Series() with
        {
            Exceptions = [new SimException("weekly-x1", moved, moved.AddHours(2), moved.AddHours(2.5), "Weekly sync (moved)", "Room 7")],
            DeletedOccurrences = [cancelled],
        }));
        var folder = sim.Store.DefaultFolder(Alisa).FolderId;

        // Neither FindItem nor SyncFolderItems names the exception: it lives inside its master.
        var window = await sim.Connector.FindItemsInWindowAsync(sim.Admin, Alisa, folder, Monday, Monday.AddDays(60), 0, 100, default);
        Assert.Equal(["weekly"], window.Items.Select(i => i.ItemId));
        var sync = await sim.Connector.SyncFolderAsync(sim.Admin, Alisa, folder, null, 100, default);
        Assert.Equal(["weekly"], sync.CreatedOrUpdated.Select(i => i.ItemId));

        var events = await sim.Connector.GetEventsAsync(sim.Admin, Alisa, ["weekly"], default);
        Assert.Equal(2, events.Count);
        var (master, exception) = (events[0], events[1]);
        Assert.Equal("FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=12", master.RecurrenceRule);
        Assert.Equal([cancelled], master.DeletedOccurrences);
        Assert.Equal("Asia/Shanghai", master.TimeZone);
        Assert.Null(master.SeriesMasterId);
        Assert.Equal(("weekly-x1", "weekly", moved, moved.AddHours(2)), (exception.ItemId, exception.SeriesMasterId, exception.OriginalStart, exception.Start));
        Assert.Equal(("Weekly sync (moved)", "Room 7", master.ICalUid), (exception.Subject, exception.Location, exception.ICalUid));
        Assert.Null(exception.RecurrenceRule);
    }

    [Fact]
    public async Task An_exception_asked_for_alone_still_names_its_master()
    {
        var moved = Monday.AddDays(7);
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.Put(store.DefaultFolder(Alisa),
            Series() with { Exceptions = [new SimException("weekly-x1", moved, moved.AddHours(2), moved.AddHours(3), "Moved")] }));
        var exception = Assert.Single(await sim.Connector.GetEventsAsync(sim.Admin, Alisa, ["weekly-x1"], default));
        Assert.Equal(("weekly", moved), (exception.SeriesMasterId, exception.OriginalStart));
    }

    [Fact]
    public async Task Changing_an_exception_is_an_update_of_its_master()
    {
        var moved = Monday.AddDays(7);
        var series = Series() with { Exceptions = [new SimException("weekly-x1", moved, moved.AddHours(2), moved.AddHours(3), "Moved")] };
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.Put(store.DefaultFolder(Alisa), series));
        var calendar = sim.Store.DefaultFolder(Alisa);
        var first = await sim.Connector.SyncFolderAsync(sim.Admin, Alisa, calendar.FolderId, null, 100, default);

        sim.Store.Put(calendar, series with { Exceptions = [new SimException("weekly-x1", moved, moved.AddHours(4), moved.AddHours(5), "Moved again", Version: 2)] });
        var next = await sim.Connector.SyncFolderAsync(sim.Admin, Alisa, calendar.FolderId, first.SyncState, 100, default);

        var update = Assert.Single(next.CreatedOrUpdated);
        Assert.Equal("weekly", update.ItemId);
        Assert.NotEqual(first.CreatedOrUpdated.Single().ChangeKey, update.ChangeKey);
        var exception = (await sim.Connector.GetEventsAsync(sim.Admin, Alisa, ["weekly"], default))[1];
        Assert.Equal(("Moved again", moved.AddHours(4)), (exception.Subject, exception.Start));
    }

    [Fact]
    public async Task All_day_items_keep_their_zone_and_attendees_their_answers()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store =>
        {
            var calendar = store.DefaultFolder(Alisa);
            store.Put(calendar, new SimCalendarItem
            {
                ItemId = "holiday", Subject = "Company holiday", Start = Monday.AddHours(-9), End = Monday.AddHours(15),
                TimeZoneId = "China Standard Time", IsAllDay = true, FreeBusy = "OOF", ReminderMinutes = null,
            });
            store.Put(calendar, Single("meeting", Monday) with
            {
                Body = "Agenda: scope, owners, dates.", Location = "Room 101", Organizer = new SimPerson("Bob", "bob@contoso.com"),
                Attendees =
                [
                    new SimAttendee("Alisa", Alisa, "Accept"), new SimAttendee("Carol", "carol@contoso.com", "Decline"),
                    new SimAttendee("Dan", "dan@contoso.com", "Tentative", Optional: true), new SimAttendee(null, "erin@contoso.com"),
                ],
            });
        });

        var events = await sim.Connector.GetEventsAsync(sim.Admin, Alisa, ["holiday", "meeting"], default);
        var holiday = events[0];
        Assert.Equal((true, "Asia/Shanghai", FreeBusy.OutOfOffice, (int?)null), (holiday.IsAllDay, holiday.TimeZone, holiday.FreeBusy, holiday.ReminderMinutesBeforeStart));
        Assert.Equal(Monday.AddHours(-9), holiday.Start);

        var meeting = events[1];
        Assert.Equal(("Agenda: scope, owners, dates.", "Room 101", 15), (meeting.Body, meeting.Location, meeting.ReminderMinutesBeforeStart));
        Assert.Equal(new EventPerson("Bob", "bob@contoso.com"), meeting.Organizer);
        Assert.Equal(
        [
            new EventAttendee("Alisa", Alisa, AttendeeKind.Required, AttendeeResponse.Accept),
            new EventAttendee("Carol", "carol@contoso.com", AttendeeKind.Required, AttendeeResponse.Decline),
            new EventAttendee(null, "erin@contoso.com", AttendeeKind.Required, AttendeeResponse.NeedsAction),
            new EventAttendee("Dan", "dan@contoso.com", AttendeeKind.Optional, AttendeeResponse.Tentative),
        ], meeting.Attendees);
    }

    [Fact]
    public async Task GetItem_goes_in_batches_of_at_most_50_and_skips_items_deleted_meanwhile()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store =>
        {
            var calendar = store.DefaultFolder(Alisa);
            for (var i = 0; i < 120; i++) store.Put(calendar, Single($"item-{i:D3}", Monday.AddHours(i)));
        });
        sim.Store.Delete(sim.Store.DefaultFolder(Alisa), "item-007");
        var ids = Enumerable.Range(0, 120).Select(i => $"item-{i:D3}").ToList();

        var events = await sim.Connector.GetEventsAsync(sim.Admin, Alisa, ids, default);

        Assert.Equal(ids.Where(id => id != "item-007"), events.Select(e => e.ItemId));
        var batches = sim.Sent.Select(s => XDocument.Parse(s.Body).Descendants(T + "ItemId").Count()).ToList();
        Assert.Equal([50, 50, 20], batches);
    }

    [Fact]
    public async Task Impersonation_refused_is_ImpersonationDenied()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store =>
        {
            store.AddMailbox(Alisa);
            store.AddAdmin("limited@contoso.com", "pw-limited", mayImpersonate: ["someone-else@contoso.com"]);
        });
        var limited = new ExchangeAdminAccount("limited@contoso.com", ExchangeConnectorKind.Ews, sim.Endpoint, "limited@contoso.com", "pw-limited");
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => sim.Connector.ListCalendarFoldersAsync(limited, Alisa, default));
        Assert.Equal(ExchangeFailureKind.ImpersonationDenied, e.Kind);
        Assert.Contains("ErrorImpersonateUserDenied", e.Message);
    }

    [Fact]
    public async Task Unknown_mailbox_is_MailboxNotFound()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync();
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => sim.Connector.ListCalendarFoldersAsync(sim.Admin, "nobody@contoso.com", default));
        Assert.Equal(ExchangeFailureKind.MailboxNotFound, e.Kind);
    }

    [Fact]
    public async Task Server_busy_for_longer_than_the_connector_waits_is_Throttled_with_BackOffMilliseconds_as_RetryAfter_then_served()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.AddMailbox(Alisa));
        sim.Store.RefuseAsBusy(1, TimeSpan.FromMilliseconds(25_000));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => sim.Connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default));
        Assert.Equal((ExchangeFailureKind.Throttled, TimeSpan.FromMilliseconds(25_000)), (e.Kind, e.RetryAfter));
        Assert.NotEmpty(await sim.Connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default));
    }

    [Fact]
    public async Task A_short_BackOffMilliseconds_is_waited_out_in_place_and_the_refused_request_sent_again()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.AddMailbox(Alisa));
        sim.Store.RefuseAsBusy(1, TimeSpan.FromMilliseconds(1500));
        var started = DateTimeOffset.UtcNow;

        Assert.NotEmpty(await sim.Connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default));

        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromMilliseconds(1500), "the retry waited for BackOffMilliseconds");
        Assert.Equal(3, sim.Sent.Count); // GetFolder refused, GetFolder again, FindFolder: the listing was not started over
    }

    [Theory]
    [InlineData(SimFault.InternalServerError, ExchangeFailureKind.Transient, "ErrorInternalServerTransientError")]
    [InlineData(SimFault.Refuse, ExchangeFailureKind.Transient, "HttpRequestException")]
    [InlineData(SimFault.ServerBusy, ExchangeFailureKind.Throttled, "ErrorServerBusy")]
    public async Task A_mailboxs_outage_reaches_the_connector_as_its_kind_and_spares_other_mailboxes(SimFault fault, ExchangeFailureKind kind, string marker)
    {
        const string bob = "bob@contoso.com";
        await using var sim = await EwsSimulatorFixture.StartAsync(store =>
        {
            store.AddMailbox(Alisa);
            store.AddMailbox(bob);
        });
        // A busy answer's back-off longer than the connector waits in place, so that it reaches the caller.
        sim.Store.InjectFault(Alisa, fault, requests: 1, backOff: TimeSpan.FromSeconds(30));

        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => sim.Connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default));
        Assert.Equal(kind, e.Kind);
        Assert.Contains(marker, e.Message);
        if (fault == SimFault.ServerBusy) Assert.Equal(TimeSpan.FromSeconds(30), e.RetryAfter);
        Assert.NotEmpty(await sim.Connector.ListCalendarFoldersAsync(sim.Admin, bob, default));
        Assert.NotEmpty(await sim.Connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default)); // the outage was one request long
    }

    [Fact]
    public async Task A_hanging_mailbox_ends_at_the_clients_timeout_as_Transient()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.AddMailbox(Alisa));
        // The simulator's paths compiled first, so that on a busy machine only the hang can outlast the short timeout.
        Assert.NotEmpty(await sim.Connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default));
        sim.Store.InjectFault(Alisa, SimFault.Hang);
        var connector = new EwsConnector(new HttpClient { Timeout = TimeSpan.FromMilliseconds(300) });

        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default));
        Assert.Equal(ExchangeFailureKind.Transient, e.Kind);
        sim.Store.ClearFault(Alisa);
        Assert.NotEmpty(await connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default));
    }

    [Fact]
    public async Task A_changed_password_refuses_the_old_one_and_keeps_the_accounts_rights()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.AddMailbox(Alisa));
        sim.Store.ChangePassword(EwsSimulatorFixture.AdminUser, "rotated");

        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => sim.Connector.ListCalendarFoldersAsync(sim.Admin, Alisa, default));
        Assert.Equal(ExchangeFailureKind.Unauthorized, e.Kind);
        Assert.NotEmpty(await sim.Connector.ListCalendarFoldersAsync(sim.AdminWith("rotated"), Alisa, default));
    }

    [Fact]
    public async Task A_sync_state_the_server_does_not_know_is_InvalidSyncState()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.AddMailbox(Alisa));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() =>
            sim.Connector.SyncFolderAsync(sim.Admin, Alisa, sim.Store.DefaultFolder(Alisa).FolderId, "H4sIAAAAAAAEAO29B2AcSZY==", 100, default));
        Assert.Equal(ExchangeFailureKind.InvalidSyncState, e.Kind);
    }

    [Fact]
    public async Task A_sync_state_the_server_forgot_is_InvalidSyncState_and_a_fresh_sync_works()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.Put(store.DefaultFolder(Alisa), Single("a", Monday)));
        var folder = sim.Store.DefaultFolder(Alisa).FolderId;
        var first = await sim.Connector.SyncFolderAsync(sim.Admin, Alisa, folder, null, 100, default);
        sim.Store.InvalidateSyncStates(Alisa);
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => sim.Connector.SyncFolderAsync(sim.Admin, Alisa, folder, first.SyncState, 100, default));
        Assert.Equal(ExchangeFailureKind.InvalidSyncState, e.Kind);
        Assert.Equal(["a"], (await sim.Connector.SyncFolderAsync(sim.Admin, Alisa, folder, null, 100, default)).CreatedOrUpdated.Select(r => r.ItemId));
    }

    [Fact]
    public async Task A_vanished_folder_is_NotFound()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.AddMailbox(Alisa));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() =>
            sim.Connector.FindItemsInWindowAsync(sim.Admin, Alisa, "AAMkGone", Monday, Monday.AddDays(1), 0, 10, default));
        Assert.Equal(ExchangeFailureKind.NotFound, e.Kind);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_Transient()
    {
        Uri endpoint;
        await using (var sim = await EwsSimulatorFixture.StartAsync()) endpoint = sim.Endpoint;
        var connector = new EwsConnector(new HttpClient());
        var admin = new ExchangeAdminAccount("a@contoso.com", ExchangeConnectorKind.Ews, endpoint, "a@contoso.com", "pw");
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.VerifyAdminAsync(admin, default));
        Assert.Equal(ExchangeFailureKind.Transient, e.Kind);
        Assert.True(e.IsRetryable);
    }

    [Fact]
    public async Task A_generated_large_mailbox_syncs_completely_in_pages_of_512()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.Generate(store.DefaultFolder(Alisa), 5_000, Monday));
        var (created, deleted, _) = await SyncToEnd(sim, sim.Store.DefaultFolder(Alisa).FolderId, null, maxChanges: 512);
        Assert.Equal(5_000, created.Select(r => r.ItemId).Distinct().Count());
        Assert.Empty(deleted);
        Assert.Equal(10, sim.Sent.Count);
    }

    [Fact]
    public async Task The_generated_100000_item_mailbox_holds_series_exceptions_and_all_day_items_and_is_served_page_by_page()
    {
        await using var sim = await EwsSimulatorFixture.StartAsync(store => store.Generate(store.DefaultFolder(Alisa), 100_000, Monday));
        var folder = sim.Store.DefaultFolder(Alisa).FolderId;

        var sync = await sim.Connector.SyncFolderAsync(sim.Admin, Alisa, folder, null, 512, default);
        Assert.Equal(512, sync.CreatedOrUpdated.Count);
        Assert.False(sync.IncludesLastItemInRange);

        var window = await sim.Connector.FindItemsInWindowAsync(sim.Admin, Alisa, folder, Monday.AddDays(-30), Monday.AddDays(90), 0, 200, default);
        var next = await sim.Connector.FindItemsInWindowAsync(sim.Admin, Alisa, folder, Monday.AddDays(-30), Monday.AddDays(90), window.NextOffset!.Value, 200, default);
        Assert.Equal((200, 200), (window.Items.Count, next.Items.Count));
        Assert.Empty(window.Items.Select(i => i.ItemId).Intersect(next.Items.Select(i => i.ItemId)));

        string[] ids = [MailboxStore.GeneratedItemId(1, 39), MailboxStore.GeneratedItemId(1, 24)];
        var series = await sim.Connector.GetEventsAsync(sim.Admin, Alisa, ids, default);
        Assert.Equal([ids[0], MailboxStore.GeneratedItemId(1, 39, "x1"), ids[1]], series.Select(e => e.ItemId));
        Assert.StartsWith("FREQ=WEEKLY;INTERVAL=1;BYDAY=", series[0].RecurrenceRule);
        Assert.Single(series[0].DeletedOccurrences);
        Assert.True(series[2].IsAllDay);
    }

    private static async Task<(List<ItemRef> Changed, List<string> Deleted, string State)> SyncToEnd(
        EwsSimulatorFixture sim, string folderId, string? state, int maxChanges)
    {
        var changed = new List<ItemRef>();
        var deleted = new List<string>();
        while (true)
        {
            var page = await sim.Connector.SyncFolderAsync(sim.Admin, Alisa, folderId, state, maxChanges, default);
            Assert.True(page.CreatedOrUpdated.Count + page.DeletedItemIds.Count <= maxChanges);
            changed.AddRange(page.CreatedOrUpdated);
            deleted.AddRange(page.DeletedItemIds);
            state = page.SyncState;
            if (page.IncludesLastItemInRange) return (changed, deleted, state);
        }
    }

    private static SimCalendarItem Single(string id, DateTimeOffset start) =>
        new() { ItemId = id, Subject = $"Subject of {id}", Start = start, End = start.AddHours(1), TimeZoneId = "China Standard Time" };

    private static SimCalendarItem Series() => new()
    {
        ItemId = "weekly", Subject = "Weekly sync", Start = Monday, End = Monday.AddMinutes(30), TimeZoneId = "China Standard Time",
        Uid = "uid-weekly",
        Recurrence = new SimRecurrence(
            "<t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>",
            "<t:NumberedRecurrence><t:StartDate>2026-11-30</t:StartDate><t:NumberOfOccurrences>12</t:NumberOfOccurrences></t:NumberedRecurrence>"),
    };
}
