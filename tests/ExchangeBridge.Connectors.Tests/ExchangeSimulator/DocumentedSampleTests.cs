using System.Net;
using System.Text;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Ews;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>
/// The connector against Microsoft's documented response samples (and exchangelib's fault captures), served as-is by a
/// stub handler: proof that it reads Exchange's real shape, not only the simulator's.
/// </summary>
public class DocumentedSampleTests
{
    private static readonly ExchangeAdminAccount Admin =
        new("admin@contoso.com", ExchangeConnectorKind.Ews, new Uri("https://mail.contoso.com/EWS/Exchange.asmx"), "admin@contoso.com", "s3cret!");

    [Fact]
    public async Task Calendar_folders_come_from_GetFolder_and_a_deep_FindFolder_keeping_only_calendars()
    {
        var connector = Serve(Sample("getfolder.response.calendar.xml"), Sample("findfolder.response.deep.xml"));
        var folders = await connector.ListCalendarFoldersAsync(Admin, "alisa@contoso.com", default);
        Assert.Equal([new ExchangeCalendarFolder("AAMk", "", true), new ExchangeCalendarFolder("AAAEOAAA=", "Calendar", false)], folders);
    }

    [Fact]
    public async Task FindItem_with_a_restriction_yields_item_refs()
    {
        var connector = Serve(Sample("finditem-restriction-calendar.response.xml"));
        var page = await connector.FindItemsInWindowAsync(Admin, "alisa@contoso.com", "AAMk", At("2014-07-01T00:00:00Z"), At("2014-08-01T00:00:00Z"), 0, 100, default);
        Assert.Equal([new ItemRef("AAMkADA5...", "DwAAABYA...")], page.Items);
        Assert.Null(page.NextOffset);
    }

    [Fact]
    public async Task Recurring_master_becomes_an_rrule()
    {
        var connector = Serve(Sample("getitem-recurring-master.response.xml"));
        var master = Assert.Single(await connector.GetEventsAsync(Admin, "alisa@contoso.com", ["AAMkAD"], default));
        Assert.Equal("Weekly Update Meeting", master.Subject);
        Assert.Equal("FREQ=WEEKLY;INTERVAL=1;BYDAY=SA;COUNT=10", master.RecurrenceRule);
        Assert.Equal(At("2014-03-08T21:21:00Z"), master.Start);
        Assert.Null(master.SeriesMasterId);
    }

    [Fact]
    public async Task Batch_of_items_keeps_attendees_reminders_and_locations()
    {
        var connector = Serve(Sample("getitem-calendar-batch.response.xml"));
        var events = await connector.GetEventsAsync(Admin, "alisa@contoso.com", ["AAMkA", "AAMkA", "AAMkA"], default);
        Assert.Equal(["Review current quarterly deliverables", "Food bank delivery", "Code Blast"], events.Select(e => e.Subject));
        Assert.Equal([30, 15, 30], events.Select(e => e.ReminderMinutesBeforeStart));
        var codeBlast = events[2];
        Assert.Equal("The lounge", codeBlast.Location);
        Assert.Equal(["Mack@contoso.com", "Sadie@contoso.com", "Magdalena@contoso.com"], codeBlast.Attendees.Select(a => a.Email));
        Assert.All(codeBlast.Attendees, a => Assert.Equal((AttendeeKind.Required, AttendeeResponse.NeedsAction), (a.Kind, a.Response)));
    }

    [Fact]
    public async Task AllProperties_shape_with_a_default_namespace_and_the_2007_time_zone_element()
    {
        var connector = Serve(Sample("getitem-calendar.response.allproperties.xml"));
        var item = Assert.Single(await connector.GetEventsAsync(Admin, "alisa@contoso.com", ["ASUAdT"], default));
        Assert.Equal("America/Los_Angeles", item.TimeZone);
        Assert.Equal(new EventPerson("Bob", "someone@example.com"), item.Organizer);
        Assert.Equal((FreeBusy.Busy, 15, false, false), (item.FreeBusy, item.ReminderMinutesBeforeStart, item.IsAllDay, item.IsCancelled));
        Assert.Null(item.Body);
        Assert.Equal(At("2006-06-16T00:30:00Z"), item.Start);
    }

    [Fact]
    public async Task SyncFolderItems_changes_become_refs_and_deletions_ignoring_read_flags()
    {
        var connector = Serve(Sample("syncfolderitems.response.incremental.xml"));
        var page = await connector.SyncFolderAsync(Admin, "alisa@contoso.com", "AAMk", "H4sIAAA==", 100, default);
        Assert.Equal(["q04QAAAA==", "AQMkAD+", "Q04AAAAA=="], page.CreatedOrUpdated.Select(r => r.ItemId));
        Assert.Equal([" q1AwAAAA=="], page.DeletedItemIds);
        Assert.Equal("H4sIAAAAAAAEAO29B2AcSZY==", page.SyncState);
        Assert.True(page.IncludesLastItemInRange);
    }

    [Fact]
    public async Task Initial_sync_sample_lists_creates()
    {
        var connector = Serve(Sample("syncfolderitems.response.initial-idonly.xml"));
        var page = await connector.SyncFolderAsync(Admin, "alisa@contoso.com", "AAMk", null, 10, default);
        Assert.NotEmpty(page.CreatedOrUpdated);
        Assert.Empty(page.DeletedItemIds);
    }

    [Fact]
    public async Task Invalid_sync_state_sample_is_InvalidSyncState()
    {
        var connector = Serve(Sample("syncfolderitems.response.error.ErrorInvalidSyncStateData.xml"));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.SyncFolderAsync(Admin, "alisa@contoso.com", "AAMk", "stale", 100, default));
        Assert.Equal(ExchangeFailureKind.InvalidSyncState, e.Kind);
    }

    [Fact]
    public async Task Server_busy_fault_with_http_500_is_Throttled_with_its_back_off()
    {
        var connector = Serve(Sample("soapfault.ErrorServerBusy.BackOffMilliseconds.exchangelib.xml", HttpStatusCode.InternalServerError));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.VerifyAdminAsync(Admin, default));
        Assert.Equal(ExchangeFailureKind.Throttled, e.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(297749), e.RetryAfter);
        Assert.True(e.IsRetryable);
    }

    [Fact]
    public async Task Schema_validation_fault_is_Permanent()
    {
        var connector = Serve(Sample("soapfault.ErrorSchemaValidation.exchangelib.xml", HttpStatusCode.InternalServerError));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.VerifyAdminAsync(Admin, default));
        Assert.Equal(ExchangeFailureKind.Permanent, e.Kind);
        Assert.Contains("ErrorSchemaValidation", e.Message);
    }

    [Fact]
    public async Task An_inner_error_code_decides_the_kind()
    {
        var connector = Serve(Sample("response.error.ErrorInternalServerError.inner-ErrorQuotaExceededOnDelete.exchangelib.xml"));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.ListCalendarFoldersAsync(Admin, "alisa@contoso.com", default));
        Assert.Equal(ExchangeFailureKind.Permanent, e.Kind);
        Assert.Contains("ErrorQuotaExceededOnDelete", e.Message);
    }

    [Fact]
    public async Task Http_503_is_Throttled_with_its_Retry_After()
    {
        // Longer than the connector waits in place (ThrottledRetry.InPlaceBudget): the failure goes up with its wait.
        var connector = new EwsConnector(new HttpClient(new ScriptedHandler([(HttpStatusCode.ServiceUnavailable, "")], retryAfterSeconds: 70)));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.VerifyAdminAsync(Admin, default));
        Assert.Equal((ExchangeFailureKind.Throttled, TimeSpan.FromSeconds(70)), (e.Kind, e.RetryAfter));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadGateway, ExchangeFailureKind.Transient)]
    [InlineData(HttpStatusCode.InternalServerError, ExchangeFailureKind.Transient)]
    [InlineData(HttpStatusCode.Forbidden, ExchangeFailureKind.Permanent)]
    public async Task Http_errors_without_a_soap_body(HttpStatusCode status, ExchangeFailureKind kind)
    {
        var connector = new EwsConnector(new HttpClient(new ScriptedHandler([(status, "<html>proxy error</html>")], mediaType: "text/html")));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.VerifyAdminAsync(Admin, default));
        Assert.Equal(kind, e.Kind);
    }

    [Fact]
    public async Task An_out_of_schema_value_is_Permanent_not_a_crash()
    {
        var broken = Sample("getitem-calendar-batch.response.xml").Body.Replace("<t:ReminderMinutesBeforeStart>30<", "<t:ReminderMinutesBeforeStart>soon<");
        var connector = Serve((HttpStatusCode.OK, broken));
        var e = await Assert.ThrowsAsync<ExchangeConnectorException>(() => connector.GetEventsAsync(Admin, "alisa@contoso.com", ["AAMkA"], default));
        Assert.Equal(ExchangeFailureKind.Permanent, e.Kind);
    }

    private static (HttpStatusCode Status, string Body) Sample(string file, HttpStatusCode status = HttpStatusCode.OK) =>
        (status, XmlPaths.Sample(file));

    private static EwsConnector Serve(params (HttpStatusCode Status, string Body)[] answers) => new(new HttpClient(new ScriptedHandler(answers)));

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Answers each request with the next scripted response, whatever was asked.</summary>
    private sealed class ScriptedHandler((HttpStatusCode Status, string Body)[] answers, int? retryAfterSeconds = null, string mediaType = "text/xml")
        : HttpMessageHandler
    {
        private int _next;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var (status, body) = answers[_next++];
            var response = new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
            if (retryAfterSeconds is { } seconds) response.Headers.RetryAfter = new(TimeSpan.FromSeconds(seconds));
            return Task.FromResult(response);
        }
    }
}
