using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Graph;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>The Graph connector (SDK and MSAL) end to end against the simulator's Graph endpoints over HTTPS.</summary>
public sealed class GraphConnectorAgainstSimulatorTests : IAsyncLifetime
{
    private const string Mailbox = "alisa@contoso.com";
    private static readonly DateTimeOffset Monday = new(2026, 11, 30, 1, 0, 0, TimeSpan.Zero);
    private GraphSimulatorFixture _sim = null!;

    public async Task InitializeAsync() => _sim = await GraphSimulatorFixture.StartAsync(s => s.AddMailbox(Mailbox));

    public async Task DisposeAsync() => await _sim.DisposeAsync();

    private SimFolder Calendar => _sim.Store.DefaultFolder(Mailbox);

    private static SimCalendarItem Single(string id, DateTimeOffset start, string? subject = null) =>
        new() { ItemId = id, Subject = subject ?? id, Start = start, End = start.AddHours(1) };

    [Fact]
    public async Task Verification_gets_a_token_and_is_accepted()
    {
        await _sim.Connector.VerifyAdminAsync(_sim.Admin, default);
        var refused = await Assert.ThrowsAsync<ExchangeConnectorException>(() => _sim.Connector.VerifyAdminAsync(_sim.AdminWith("wrong"), default));
        Assert.Equal(ExchangeFailureKind.Unauthorized, refused.Kind);
        Assert.Contains("invalid_client", refused.Message);
    }

    [Fact]
    public async Task A_certificate_credential_signs_a_client_assertion_the_token_endpoint_checks()
    {
        using var registered = SimulatorCertificate.CreateClientCertificate();
        using var other = SimulatorCertificate.CreateClientCertificate();
        _sim.Store.AddGraphApp(GraphSimulatorFixture.TenantId, "cert-app", registered);
        ExchangeAdminAccount WithCertificate(string pem) => _sim.Admin with { GraphClientId = "cert-app", Secret = pem, Credential = AdminCredentialKind.Certificate };
        var admin = WithCertificate(SimulatorCertificate.ToPemWithKey(registered));

        await _sim.Connector.VerifyAdminAsync(admin, default);
        Assert.Equal(["Calendar"], (await _sim.Connector.ListCalendarFoldersAsync(admin, Mailbox, default)).Select(f => f.DisplayName));
        var unknown = await Assert.ThrowsAsync<ExchangeConnectorException>(() =>
            _sim.Connector.VerifyAdminAsync(WithCertificate(SimulatorCertificate.ToPemWithKey(other)), default));
        Assert.Equal(ExchangeFailureKind.Unauthorized, unknown.Kind);
        Assert.Contains("AADSTS700027", unknown.Message); // signed by a key the app registration does not know
        var keyless = await Assert.ThrowsAsync<ExchangeConnectorException>(() =>
            _sim.Connector.VerifyAdminAsync(WithCertificate(registered.ExportCertificatePem()), default));
        Assert.Equal(ExchangeFailureKind.Permanent, keyless.Kind);
    }

    [Fact]
    public async Task Calendars_list_the_default_first()
    {
        _sim.Store.AddFolder(Mailbox, "Team");
        _sim.Store.AddFolder(Mailbox, "Holidays");
        var folders = await _sim.Connector.ListCalendarFoldersAsync(_sim.Admin, Mailbox, default);
        Assert.Equal([("Calendar", true), ("Holidays", false), ("Team", false)], folders.Select(f => (f.DisplayName, f.IsDefault)));
        Assert.Equal(Calendar.FolderId, folders[0].FolderId);
    }

    [Fact]
    public async Task Window_pages_by_offset_and_includes_every_master()
    {
        for (var i = 0; i < 12; i++) _sim.Store.Put(Calendar, Single($"in{i:D2}", Monday.AddDays(i)));
        _sim.Store.Put(Calendar, Single("before", Monday.AddDays(-100)));
        _sim.Store.Put(Calendar, Single("after", Monday.AddDays(100)));
        _sim.Store.Put(Calendar, Single("oldSeries", Monday.AddDays(-300)) with
        {
            Recurrence = new SimRecurrence("<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>",
                "<t:NoEndRecurrence><t:StartDate>2026-02-03</t:StartDate></t:NoEndRecurrence>"),
        });
        var seen = new List<string>();
        int? offset = 0;
        var pages = 0;
        while (offset is { } current)
        {
            var page = await _sim.Connector.FindItemsInWindowAsync(_sim.Admin, Mailbox, Calendar.FolderId, Monday.AddDays(-1), Monday.AddDays(30), current, 5, default);
            seen.AddRange(page.Items.Select(i => i.ItemId));
            offset = page.NextOffset;
            pages++;
        }
        Assert.Equal(3, pages);
        Assert.Equal(["oldSeries", .. Enumerable.Range(0, 12).Select(i => $"in{i:D2}")], seen);
    }

    [Fact]
    public async Task Delta_pages_then_reports_changes_and_deletions_and_refuses_an_invalidated_link()
    {
        for (var i = 0; i < 7; i++) _sim.Store.Put(Calendar, Single($"e{i}", Monday.AddDays(i)));
        var ids = new List<string>();
        string? state = null;
        SyncPage page;
        do
        {
            page = await _sim.Connector.SyncFolderAsync(_sim.Admin, Mailbox, Calendar.FolderId, state, 3, default);
            ids.AddRange(page.CreatedOrUpdated.Select(i => i.ItemId));
            state = page.SyncState;
        } while (!page.IncludesLastItemInRange);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"e{i}"), ids);
        Assert.Contains("$deltatoken=", state);

        var changed = _sim.Store.Put(Calendar, Single("e1", Monday, "renamed"));
        _sim.Store.Delete(Calendar, "e2");
        var brandNew = _sim.Store.Put(Calendar, Single("brandNew", Monday));
        _sim.Store.Put(Calendar, Single("shortLived", Monday));
        _sim.Store.Delete(Calendar, "shortLived");
        var changes = await _sim.Connector.SyncFolderAsync(_sim.Admin, Mailbox, Calendar.FolderId, state, 100, default);
        Assert.Equal([new ItemRef("e1", changed.ChangeKey), new ItemRef("brandNew", brandNew.ChangeKey)],
            changes.CreatedOrUpdated);
        Assert.Equal(["e2"], changes.DeletedItemIds);
        Assert.True(changes.IncludesLastItemInRange);

        _sim.Store.InvalidateSyncStates(Mailbox);
        var refused = await Assert.ThrowsAsync<ExchangeConnectorException>(() =>
            _sim.Connector.SyncFolderAsync(_sim.Admin, Mailbox, Calendar.FolderId, changes.SyncState, 100, default));
        Assert.Equal(ExchangeFailureKind.InvalidSyncState, refused.Kind);
    }

    [Fact]
    public async Task A_series_comes_back_with_its_rrule_cancellations_and_exceptions_after_it()
    {
        _sim.Store.Put(Calendar, new SimCalendarItem
        {
            ItemId = "series", Subject = "Stand-up", Start = Monday, End = Monday.AddMinutes(15), TimeZoneId = "China Standard Time",
            Recurrence = new SimRecurrence("<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>",
                "<t:EndDateRecurrence><t:StartDate>2026-11-30</t:StartDate><t:EndDate>2027-06-30</t:EndDate></t:EndDateRecurrence>"),
            Exceptions = [new SimException("seriesX1", Monday.AddDays(28), Monday.AddDays(29), Monday.AddDays(29).AddMinutes(15), "Stand-up (Tuesday)")],
            DeletedOccurrences = [Monday.AddDays(56)],
        });
        _sim.Store.Put(Calendar, Single("single", Monday));
        var events = await _sim.Connector.GetEventsAsync(_sim.Admin, Mailbox, ["series", "gone", "single"], default);
        Assert.Equal(["series", "seriesX1", "single"], events.Select(e => e.ItemId));
        var master = events[0];
        Assert.Equal("FREQ=MONTHLY;INTERVAL=1;BYDAY=-1MO;UNTIL=20270630T010000Z", master.RecurrenceRule);
        Assert.Equal("Asia/Shanghai", master.TimeZone);
        Assert.Equal([Monday.AddDays(56)], master.DeletedOccurrences);
        var exception = events[1];
        Assert.Equal(("series", Monday.AddDays(28), Monday.AddDays(29)), (exception.SeriesMasterId, exception.OriginalStart, exception.Start));
        Assert.Equal("Stand-up (Tuesday)", exception.Subject);
    }

    [Fact]
    public async Task Forty_five_ids_travel_in_three_batches_and_come_back_in_order_with_exceptions_after_masters()
    {
        var ids = Enumerable.Range(0, 45).Select(i => $"e{i:D2}").ToList();
        foreach (var id in ids) _sim.Store.Put(Calendar, Single(id, Monday.AddDays(45 - ids.IndexOf(id)))); // stored order differs from asked order
        _sim.Store.Put(Calendar, Single("e07", Monday) with
        {
            Recurrence = new SimRecurrence("<t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence>",
                "<t:NoEndRecurrence><t:StartDate>2026-11-30</t:StartDate></t:NoEndRecurrence>"),
            Exceptions = [new SimException("e07X1", Monday.AddDays(1), Monday.AddDays(1).AddHours(3), Monday.AddDays(1).AddHours(4), "moved"),
                new SimException("e07X2", Monday.AddDays(2), Monday.AddDays(2).AddHours(3), Monday.AddDays(2).AddHours(4), "moved too")],
        });
        _sim.Store.Delete(Calendar, "e30");
        var wire = new GraphWire(_sim.TrustingHandler());
        var connector = new GraphConnector(new HttpClient(wire));

        var events = await connector.GetEventsAsync(_sim.Admin, Mailbox, ids, default);

        Assert.Equal([.. ids[..8], "e07X1", "e07X2", .. ids[8..30], .. ids[31..]], events.Select(e => e.ItemId));
        Assert.All(events.Skip(8).Take(2), x => Assert.Equal("e07", x.SeriesMasterId));
        Assert.Equal(3, wire.Batches);
        Assert.Equal(1, wire.MostBatchesInFlight); // Outlook's 4 concurrent requests per app and mailbox count each request of a batch
        Assert.Equal(0, wire.OtherGraphCalls);
    }

    [Fact]
    public async Task One_throttled_request_is_retried_alone_after_its_Retry_After_and_the_call_succeeds()
    {
        var ids = Enumerable.Range(0, 30).Select(i => $"e{i:D2}").ToList();
        foreach (var id in ids) _sim.Store.Put(Calendar, Single(id, Monday));
        var wire = new GraphWire(_sim.TrustingHandler());
        var connector = new GraphConnector(new HttpClient(wire));
        await connector.VerifyAdminAsync(_sim.Admin, default); // a token in hand, so the next request served is a batch's
        _sim.Store.RefuseAsBusy(1, TimeSpan.FromSeconds(1));

        var started = DateTimeOffset.UtcNow;
        var events = await connector.GetEventsAsync(_sim.Admin, Mailbox, ids, default);

        Assert.Equal(ids, events.Select(e => e.ItemId));
        Assert.Equal([20, 1, 10], wire.BatchSizes); // the throttled request alone, before the next batch
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(1), "the retry waited for Retry-After");
    }

    [Fact]
    public async Task A_request_still_throttled_after_its_retries_fails_the_call_as_throttled()
    {
        _sim.Store.Put(Calendar, Single("e1", Monday));
        var wire = new GraphWire(_sim.TrustingHandler());
        var connector = new GraphConnector(new HttpClient(wire));
        await connector.VerifyAdminAsync(_sim.Admin, default);
        _sim.Store.RefuseAsBusy(100, TimeSpan.FromSeconds(1));

        var refused = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.GetEventsAsync(_sim.Admin, Mailbox, ["e1"], default));

        Assert.Equal(ExchangeFailureKind.Throttled, refused.Kind);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        Assert.Equal(1 + GraphConnector.MaxStepRetries, wire.Batches);
    }

    [Fact]
    public async Task A_request_throttled_for_longer_than_the_connector_waits_fails_the_call_as_throttled_with_its_Retry_After()
    {
        for (var i = 0; i < 30; i++) _sim.Store.Put(Calendar, Single($"e{i}", Monday));
        await _sim.Connector.VerifyAdminAsync(_sim.Admin, default); // a token in hand, so the next request served is a batch's
        _sim.Store.RefuseAsBusy(1, TimeSpan.FromSeconds(42));
        var refused = await Assert.ThrowsAsync<ExchangeConnectorException>(() =>
            _sim.Connector.GetEventsAsync(_sim.Admin, Mailbox, [.. Enumerable.Range(0, 30).Select(i => $"e{i}")], default));
        Assert.Equal(ExchangeFailureKind.Throttled, refused.Kind);
        Assert.Equal(TimeSpan.FromSeconds(42), refused.RetryAfter);
        Assert.Contains("ApplicationThrottled", refused.Message);
    }

    [Fact]
    public async Task A_throttled_batch_fails_the_call_as_throttled_with_its_Retry_After()
    {
        _sim.Store.Put(Calendar, Single("e1", Monday));
        var wire = new GraphWire(_sim.TrustingHandler()) { ThrottleBatches = true };
        var refused = await Assert.ThrowsAsync<ExchangeConnectorException>(() =>
            new GraphConnector(new HttpClient(wire)).GetEventsAsync(_sim.Admin, Mailbox, ["e1"], default));
        Assert.Equal(ExchangeFailureKind.Throttled, refused.Kind);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.RetryAfter);
    }

    [Fact]
    public async Task A_revoked_token_is_replaced_once_and_the_batch_sent_again()
    {
        _sim.Store.Put(Calendar, Single("e1", Monday));
        await _sim.Connector.VerifyAdminAsync(_sim.Admin, default);
        _sim.Store.AddGraphApp(GraphSimulatorFixture.TenantId, GraphSimulatorFixture.ClientId, GraphSimulatorFixture.ClientSecret); // revokes issued tokens
        Assert.Equal(["e1"], (await _sim.Connector.GetEventsAsync(_sim.Admin, Mailbox, ["e1"], default)).Select(e => e.ItemId));
    }

    /// <summary>The same mailbox read through EWS and through Graph gives the same events, field by field.</summary>
    [Fact]
    public async Task The_same_mailbox_reads_the_same_through_EWS_and_Graph()
    {
        _sim.Store.Generate(Calendar, 400, Monday, seed: 3);
        _sim.Store.Put(Calendar, new SimCalendarItem
        {
            ItemId = "rich", Subject = "Design review", Start = Monday.AddDays(1), End = Monday.AddDays(1).AddMinutes(90),
            TimeZoneId = "Pacific Standard Time", Location = "Room 7", Body = "Bring the drafts.", FreeBusy = "OOF", ReminderMinutes = null,
            Organizer = new SimPerson("Bob", "bob@contoso.com"), IsCancelled = true,
            Attendees = [new SimAttendee("Alisa", Mailbox, "Organizer"), new SimAttendee(null, "carol@contoso.com", "Decline", Optional: true)],
            Recurrence = new SimRecurrence("<t:WeeklyRecurrence><t:Interval>2</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence>",
                "<t:NoEndRecurrence><t:StartDate>2026-12-01</t:StartDate></t:NoEndRecurrence>"),
        });
        foreach (var (pattern, range) in new[]
        {
            ("<t:AbsoluteYearlyRecurrence><t:DayOfMonth>24</t:DayOfMonth><t:Month>December</t:Month></t:AbsoluteYearlyRecurrence>", "<t:NumberedRecurrence><t:StartDate>2026-12-24</t:StartDate><t:NumberOfOccurrences>5</t:NumberOfOccurrences></t:NumberedRecurrence>"),
            ("<t:RelativeYearlyRecurrence><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex><t:Month>March</t:Month></t:RelativeYearlyRecurrence>", "<t:NoEndRecurrence><t:StartDate>2027-03-01</t:StartDate></t:NoEndRecurrence>"),
            ("<t:AbsoluteMonthlyRecurrence><t:Interval>3</t:Interval><t:DayOfMonth>15</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>", "<t:EndDateRecurrence><t:StartDate>2026-12-15</t:StartDate><t:EndDate>2028-01-01</t:EndDate></t:EndDateRecurrence>"),
        })
            _sim.Store.Put(Calendar, Single($"pattern{pattern.Length}", Monday) with { Recurrence = new SimRecurrence(pattern, range), TimeZoneId = "W. Europe Standard Time" });

        var ids = new List<string>();
        string? state = null;
        SyncPage page;
        do
        {
            page = await _sim.Connector.SyncFolderAsync(_sim.Admin, Mailbox, Calendar.FolderId, state, 200, default);
            ids.AddRange(page.CreatedOrUpdated.Select(i => i.ItemId));
            state = page.SyncState;
        } while (!page.IncludesLastItemInRange);
        Assert.Equal(404, ids.Count);

        var viaGraph = await _sim.Connector.GetEventsAsync(_sim.Admin, Mailbox, ids, default);
        var viaEws = await _sim.Ews.GetEventsAsync(_sim.EwsAdmin, Mailbox, ids, default);
        Assert.True(viaGraph.Count > ids.Count); // exceptions follow their masters
        foreach (var (ews, graph) in viaEws.Zip(viaGraph)) Assert.Equal(Json(ews), Json(graph));
        Assert.Equal(viaEws.Count, viaGraph.Count);
    }

    [Fact]
    public async Task Ids_cross_the_connector_in_EWS_form_and_travel_in_Graphs_url_safe_form()
    {
        // EWS ids are base64: '/' and '+' occur. Graph's REST ids write them '-' and '_'; a path with an encoded slash
        // would not reach the calendar (it is how the benchmark's mailbox first failed). The connector converts at its
        // edge: the ids it gives and takes are the EWS ones, what the same mailbox has through EWS.
        var address = Enumerable.Range(0, 100).Select(i => $"user{i}@contoso.com")
            .First(a => _sim.Store.DefaultFolder(a).FolderId.IndexOfAny(['/', '+']) >= 0);
        var calendar = _sim.Store.DefaultFolder(address);
        _sim.Store.Put(calendar, Single("AAMkAD+x/y=", Monday));

        var folder = (await _sim.Connector.ListCalendarFoldersAsync(_sim.Admin, address, default)).Single();
        Assert.Equal(calendar.FolderId, folder.FolderId);
        var listed = await _sim.Connector.FindItemsInWindowAsync(_sim.Admin, address, folder.FolderId, Monday.AddDays(-1), Monday.AddDays(1), 0, 10, default);
        Assert.Equal(["AAMkAD+x/y="], listed.Items.Select(i => i.ItemId));
        var synced = await _sim.Connector.SyncFolderAsync(_sim.Admin, address, folder.FolderId, null, 10, default);
        Assert.Equal(["AAMkAD+x/y="], synced.CreatedOrUpdated.Select(i => i.ItemId));
        var fetched = (await _sim.Connector.GetEventsAsync(_sim.Admin, address, ["AAMkAD+x/y="], default)).Single();
        Assert.Equal(("AAMkAD+x/y=", "AAMkAD+x/y="), (fetched.ItemId, fetched.Subject));
    }

    [Theory]
    [InlineData("unknown-mailbox", ExchangeFailureKind.MailboxNotFound)]
    [InlineData("restricted-app", ExchangeFailureKind.ImpersonationDenied)]
    [InlineData("busy", ExchangeFailureKind.Throttled)]
    [InlineData("revoked", ExchangeFailureKind.Unauthorized)]
    public async Task Refusals_map_to_failure_kinds(string fault, ExchangeFailureKind kind)
    {
        var mailbox = Mailbox;
        await _sim.Connector.VerifyAdminAsync(_sim.Admin, default); // a cached token, as in production
        switch (fault)
        {
            case "unknown-mailbox": mailbox = "ghost@contoso.com"; break;
            case "restricted-app": _sim.Store.AddGraphApp(GraphSimulatorFixture.TenantId, GraphSimulatorFixture.ClientId, GraphSimulatorFixture.ClientSecret, ["other@contoso.com"]); break;
            case "busy": _sim.Store.RefuseAsBusy(1, TimeSpan.FromSeconds(42)); break;
            case "revoked": _sim.Store.AddGraphApp(GraphSimulatorFixture.TenantId, GraphSimulatorFixture.ClientId, "rotated"); break;
        }
        var refused = await Assert.ThrowsAsync<ExchangeConnectorException>(() => _sim.Connector.ListCalendarFoldersAsync(_sim.Admin, mailbox, default));
        Assert.Equal(kind, refused.Kind);
        if (kind == ExchangeFailureKind.Throttled) Assert.Equal(TimeSpan.FromSeconds(42), refused.RetryAfter);
    }

    private static string Json(ExchangeEvent e) => JsonSerializer.Serialize(e);

    /// <summary>
    /// Counts what reaches Graph: $batch posts (their sizes, and how many were in flight at once) and any other Graph call
    /// (token requests aside); can answer every batch 429.
    /// </summary>
    private sealed class GraphWire(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public int Batches;
        public int OtherGraphCalls;
        public int MostBatchesInFlight;
        private int _inFlight;
        public List<int> BatchSizes { get; } = [];
        public bool ThrottleBatches { get; init; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (path.EndsWith("/$batch", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref Batches);
                var size = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!["requests"]!.AsArray().Count;
                lock (BatchSizes) BatchSizes.Add(size);
                var inFlight = Interlocked.Increment(ref _inFlight);
                lock (BatchSizes) MostBatchesInFlight = Math.Max(MostBatchesInFlight, inFlight);
                try
                {
                    if (ThrottleBatches)
                        return new HttpResponseMessage(HttpStatusCode.TooManyRequests)
                        {
                            Headers = { { "Retry-After", "7" } },
                            Content = new StringContent("""{"error":{"code":"TooManyRequests","message":"Too many requests."}}""", Encoding.UTF8, "application/json"),
                        };
                    return await base.SendAsync(request, cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }
            if (!path.Contains("/oauth2/", StringComparison.Ordinal)) Interlocked.Increment(ref OtherGraphCalls);
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
