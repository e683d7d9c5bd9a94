using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml;
using ExchangeBridge.Core.Exchange;
using static ExchangeBridge.Ews.EwsNames;

namespace ExchangeBridge.Ews;

/// <summary>
/// <see cref="IExchangeConnector"/> over Exchange Web Services (SOAP 1.1, Exchange2013_SP1 schema), Basic auth with the
/// admin account and ExchangeImpersonation of the bound mailbox.
/// <para>Recurring series: FindItem and SyncFolderItems only ever name singles and masters (a modified occurrence is
/// stored inside its master, and changing it changes the master's ChangeKey). <see cref="GetEventsAsync"/> therefore
/// returns, for each master asked for, the master followed by all its current exceptions.</para>
/// </summary>
public sealed class EwsConnector(HttpClient http) : IExchangeConnector
{
    /// <summary>Ids per GetItem request; Microsoft's sync guidance suggests small batches, EWS accepts far more.</summary>
    public const int GetItemBatchSize = 50;

    private const int FolderPageSize = 500;

    public async Task VerifyAdminAsync(ExchangeAdminAccount admin, CancellationToken cancellationToken) =>
        await SendAsync(admin, null, "GetFolder", EwsRequests.GetCalendarFolder(null, withNames: false),
            body => EwsResponses.Single(body, "GetFolder"), cancellationToken);

    public async Task<IReadOnlyList<ExchangeCalendarFolder>> ListCalendarFoldersAsync(
        ExchangeAdminAccount admin, string mailbox, CancellationToken cancellationToken)
    {
        var folders = new List<ExchangeCalendarFolder>();
        var root = await SendAsync(admin, mailbox, "GetFolder", EwsRequests.GetCalendarFolder(mailbox, withNames: true),
            body => EwsResponses.Single(body, "GetFolder"), cancellationToken);
        var calendar = root.Element(M + "Folders")?.Elements().FirstOrDefault()
                       ?? throw new ExchangeConnectorException(ExchangeFailureKind.NotFound, "EWS GetFolder: no calendar folder");
        folders.Add(EwsResponses.ReadFolder(calendar, isDefault: true));

        int? offset = 0;
        while (offset is { } current)
        {
            var message = await SendAsync(admin, mailbox, "FindFolder", EwsRequests.FindCalendarSubfolders(mailbox, current, FolderPageSize),
                body => EwsResponses.Single(body, "FindFolder"), cancellationToken);
            var (children, next) = EwsResponses.ReadRootFolder(message, T + "Folders");
            folders.AddRange(children.Where(EwsResponses.IsCalendarFolder).Select(f => EwsResponses.ReadFolder(f, isDefault: false)));
            offset = next;
        }
        return folders;
    }

    public Task<WindowPage> FindItemsInWindowAsync(ExchangeAdminAccount admin, string mailbox, string folderId, DateTimeOffset from,
        DateTimeOffset to, int offset, int maxItems, CancellationToken cancellationToken) =>
        SendAsync(admin, mailbox, "FindItem", EwsRequests.FindItemsInWindow(mailbox, folderId, from, to, offset, Math.Max(1, maxItems)),
            body =>
            {
                var (items, next) = EwsResponses.ReadRootFolder(EwsResponses.Single(body, "FindItem"), T + "Items");
                return new WindowPage(items.Select(EwsResponses.ReadItemRef).ToList(), next);
            }, cancellationToken);

    public Task<SyncPage> SyncFolderAsync(ExchangeAdminAccount admin, string mailbox, string folderId, string? syncState,
        int maxChanges, CancellationToken cancellationToken) =>
        SendAsync(admin, mailbox, "SyncFolderItems",
            EwsRequests.SyncFolderItems(mailbox, folderId, syncState, Math.Clamp(maxChanges, 1, MaxSyncChanges)),
            body => EwsResponses.ReadSyncPage(EwsResponses.Single(body, "SyncFolderItems")), cancellationToken);

    /// <summary>
    /// The requested items in request order, each master followed by its exceptions (SeriesMasterId and OriginalStart
    /// set). Items deleted since they were listed are left out: the next sync reports their deletion.
    /// </summary>
    public async Task<IReadOnlyList<ExchangeEvent>> GetEventsAsync(
        ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> itemIds, CancellationToken cancellationToken)
    {
        var items = await GetCalendarItemsAsync(admin, mailbox, itemIds, cancellationToken);

        // An exception asked for on its own still needs to know its series.
        var orphanExceptions = items.Where(i => i.CalendarItemType == "Exception").Select(i => i.Event.ItemId).ToList();
        var mastersOf = await GetMasterIdsAsync(admin, mailbox, orphanExceptions, cancellationToken);

        var exceptionIds = items.SelectMany(i => i.ModifiedOccurrences.Select(o => o.ItemId)).ToList();
        var exceptions = (await GetCalendarItemsAsync(admin, mailbox, exceptionIds, cancellationToken))
            .ToDictionary(e => e.Event.ItemId);

        var events = new List<ExchangeEvent>(items.Count + exceptions.Count);
        foreach (var item in items)
        {
            events.Add(mastersOf.TryGetValue(item.Event.ItemId, out var masterId) ? item.Event with { SeriesMasterId = masterId } : item.Event);
            foreach (var occurrence in item.ModifiedOccurrences)
                if (exceptions.TryGetValue(occurrence.ItemId, out var exception))
                    events.Add(exception.Event with
                    {
                        SeriesMasterId = item.Event.ItemId,
                        OriginalStart = exception.Event.OriginalStart ?? occurrence.OriginalStart,
                        ICalUid = exception.Event.ICalUid ?? item.Event.ICalUid,
                    });
        }
        return events;
    }

    private async Task<List<ParsedCalendarItem>> GetCalendarItemsAsync(
        ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> itemIds, CancellationToken cancellationToken)
    {
        var items = new List<ParsedCalendarItem>(itemIds.Count);
        foreach (var batch in itemIds.Chunk(GetItemBatchSize))
            items.AddRange(await SendAsync(admin, mailbox, "GetItem", EwsRequests.GetItems(mailbox, batch),
                body => EwsCalendarItems.Read(body, "GetItem", IsGone), cancellationToken));
        return items;
    }

    private async Task<Dictionary<string, string>> GetMasterIdsAsync(
        ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> exceptionIds, CancellationToken cancellationToken)
    {
        var masters = new Dictionary<string, string>();
        foreach (var batch in exceptionIds.Chunk(GetItemBatchSize))
        {
            var answers = await SendAsync(admin, mailbox, "GetItem", EwsRequests.GetMastersOf(mailbox, batch), body =>
                EwsResponses.Messages(body, "GetItem", IsGone).ToList(), cancellationToken);
            foreach (var (exceptionId, message) in batch.Zip(answers))
                if (!EwsResponses.IsError(message) && message.Element(M + "Items")?.Elements().FirstOrDefault() is { } master)
                    masters[exceptionId] = EwsResponses.ReadItemRef(master).ItemId;
        }
        return masters;
    }

    private static bool IsGone(string responseCode) => responseCode == "ErrorItemNotFound";

    /// <summary>One request, sent again in place after a short back-off (<see cref="ThrottledRetry"/>).</summary>
    private Task<T> SendAsync<T>(ExchangeAdminAccount admin, string? impersonated, string operation, byte[] envelope,
        Func<Stream, T> read, CancellationToken cancellationToken) =>
        ThrottledRetry.RunAsync(() => SendOnceAsync(admin, impersonated, operation, envelope, read, cancellationToken), cancellationToken);

    private async Task<T> SendOnceAsync<T>(ExchangeAdminAccount admin, string? impersonated, string operation, byte[] envelope,
        Func<Stream, T> read, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, EndpointOf(admin)) { Content = new ByteArrayContent(envelope) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/xml") { CharSet = "utf-8" };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{admin.Username}:{admin.Secret}")));
        if (impersonated is not null) request.Headers.Add("X-AnchorMailbox", impersonated);

        HttpResponseMessage response;
        try
        {
            // Buffered (ResponseContentRead) so that the synchronous XmlReader never blocks on the network; parsing
            // still materialises one ResponseMessage at a time.
            response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"EWS {operation}: {e.GetType().Name}: {e.Message}", inner: e);
        }

        using (response)
        {
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized:
                    throw new ExchangeConnectorException(ExchangeFailureKind.Unauthorized, $"EWS {operation}: the admin account's credentials were refused (HTTP 401)");
                case HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable:
                    throw new ExchangeConnectorException(ExchangeFailureKind.Throttled,
                        $"EWS {operation}: HTTP {(int)response.StatusCode}", response.Headers.RetryAfter?.Delta) { AccountWide = true };
            }
            // Exchange sends SOAP faults with HTTP 500 (and some servers with 200): read the body either way.
            var isSoap = response.Content.Headers.ContentType?.MediaType?.Contains("xml", StringComparison.OrdinalIgnoreCase) == true;
            if (!response.IsSuccessStatusCode && !(response.StatusCode == HttpStatusCode.InternalServerError && isSoap))
                throw new ExchangeConnectorException((int)response.StatusCode >= 500 ? ExchangeFailureKind.Transient : ExchangeFailureKind.Permanent,
                    $"EWS {operation}: HTTP {(int)response.StatusCode}");
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                var result = read(body);
                return response.IsSuccessStatusCode
                    ? result
                    : throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"EWS {operation}: HTTP 500 without a fault");
            }
            catch (XmlException e)
            {
                throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"EWS {operation}: unreadable answer ({e.Message})", inner: e);
            }
            catch (IOException e)
            {
                throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"EWS {operation}: {e.Message}", inner: e);
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                // A value outside the schema (a date, a number, a day name): retrying the same answer will not help.
                throw new ExchangeConnectorException(ExchangeFailureKind.Permanent, $"EWS {operation}: unreadable value ({e.Message})", inner: e);
            }
        }
    }

    /// <summary>An endpoint given as a bare host means the standard EWS path on it.</summary>
    private static Uri EndpointOf(ExchangeAdminAccount admin) =>
        admin.Endpoint.AbsolutePath is "" or "/" ? new Uri(admin.Endpoint, "/EWS/Exchange.asmx") : admin.Endpoint;
}
