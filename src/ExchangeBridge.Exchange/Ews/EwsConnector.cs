using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using ExchangeBridge.Core.Exchange;
using static ExchangeBridge.Exchange.Ews.Ews;

namespace ExchangeBridge.Exchange.Ews;

/// <summary>
/// Exchange Server through EWS: SOAP 1.1, RequestServerVersion Exchange2013_SP1, ExchangeImpersonation of the bound
/// mailbox (with X-AnchorMailbox), Basic authentication with the admin account. Modified occurrences are separate
/// Exception items in EWS: <see cref="GetEventsAsync"/> returns each master followed by its exceptions, fetched by
/// the ids the master lists. SyncFolderItems reports masters and single items (an occurrence's change or removal
/// shows as an update of its master).
/// </summary>
public sealed class EwsConnector(HttpClient http) : IExchangeConnector
{
    private const int MaxSyncChanges = 512;

    public async Task VerifyAdminAsync(ExchangeAdminAccount admin, CancellationToken cancellationToken)
    {
        var response = await SendAsync(admin, null, GetFolder(), cancellationToken);
        EnsureSuccess(response.Descendants(Messages + "GetFolderResponseMessage").Single());
    }

    public async Task<IReadOnlyList<ExchangeCalendarFolder>> ListCalendarFoldersAsync(ExchangeAdminAccount admin, string mailbox,
        CancellationToken cancellationToken)
    {
        var root = await SendAsync(admin, mailbox, GetFolder(), cancellationToken);
        var rootMessage = root.Descendants(Messages + "GetFolderResponseMessage").Single();
        EnsureSuccess(rootMessage);
        var calendar = rootMessage.Descendants(Types + "CalendarFolder").Single();
        var folders = new List<ExchangeCalendarFolder> { Folder(calendar, isDefault: true) };

        var found = await SendAsync(admin, mailbox, new XElement(Messages + "FindFolder", new XAttribute("Traversal", "Deep"),
            new XElement(Messages + "FolderShape", new XElement(Types + "BaseShape", "Default")),
            new XElement(Messages + "ParentFolderIds", new XElement(Types + "DistinguishedFolderId", new XAttribute("Id", "calendar")))),
            cancellationToken);
        var findMessage = found.Descendants(Messages + "FindFolderResponseMessage").Single();
        EnsureSuccess(findMessage);
        folders.AddRange(findMessage.Descendants(Types + "CalendarFolder").Select(f => Folder(f, isDefault: false)));
        return folders;
    }

    public async Task<WindowPage> FindItemsInWindowAsync(ExchangeAdminAccount admin, string mailbox, string folderId,
        DateTimeOffset from, DateTimeOffset to, int offset, int maxItems, CancellationToken cancellationToken)
    {
        static XElement Compare(string op, string field, DateTimeOffset value) =>
            new(Types + op, new XElement(Types + "FieldURI", new XAttribute("FieldURI", field)),
                new XElement(Types + "FieldURIOrConstant", new XElement(Types + "Constant", new XAttribute("Value", FormatTime(value)))));

        var request = new XElement(Messages + "FindItem", new XAttribute("Traversal", "Shallow"),
            new XElement(Messages + "ItemShape", new XElement(Types + "BaseShape", "IdOnly")),
            new XElement(Messages + "IndexedPageItemView", new XAttribute("MaxEntriesReturned", maxItems),
                new XAttribute("Offset", offset), new XAttribute("BasePoint", "Beginning")),
            new XElement(Messages + "Restriction",
                new XElement(Types + "Or",
                    new XElement(Types + "IsEqualTo", new XElement(Types + "FieldURI", new XAttribute("FieldURI", "calendar:CalendarItemType")),
                        new XElement(Types + "FieldURIOrConstant", new XElement(Types + "Constant", new XAttribute("Value", "RecurringMaster")))),
                    new XElement(Types + "And", Compare("IsLessThan", "calendar:Start", to), Compare("IsGreaterThan", "calendar:End", from)))),
            new XElement(Messages + "ParentFolderIds", new XElement(Types + "FolderId", new XAttribute("Id", folderId))));
        var response = await SendAsync(admin, mailbox, request, cancellationToken);
        var message = response.Descendants(Messages + "FindItemResponseMessage").Single();
        EnsureSuccess(message);
        var rootFolder = message.Element(Messages + "RootFolder")!;
        var items = rootFolder.Descendants(Types + "ItemId")
            .Select(i => new ItemRef(i.Attribute("Id")!.Value, i.Attribute("ChangeKey")?.Value ?? "")).ToList();
        var isLast = rootFolder.Attribute("IncludesLastItemInRange")?.Value == "true";
        var next = int.TryParse(rootFolder.Attribute("IndexedPagingOffset")?.Value, out var n) ? n : offset + items.Count;
        return new WindowPage(items, isLast || items.Count == 0 ? null : next);
    }

    public async Task<SyncPage> SyncFolderAsync(ExchangeAdminAccount admin, string mailbox, string folderId, string? syncState,
        int maxChanges, CancellationToken cancellationToken)
    {
        var request = new XElement(Messages + "SyncFolderItems",
            new XElement(Messages + "ItemShape", new XElement(Types + "BaseShape", "IdOnly")),
            new XElement(Messages + "SyncFolderId", new XElement(Types + "FolderId", new XAttribute("Id", folderId))),
            syncState is null ? null : new XElement(Messages + "SyncState", syncState),
            new XElement(Messages + "MaxChangesReturned", Math.Clamp(maxChanges, 1, MaxSyncChanges)),
            new XElement(Messages + "SyncScope", "NormalItems"));
        var response = await SendAsync(admin, mailbox, request, cancellationToken);
        var message = response.Descendants(Messages + "SyncFolderItemsResponseMessage").Single();
        EnsureSuccess(message);
        var changed = new List<ItemRef>();
        var deleted = new List<string>();
        foreach (var change in message.Element(Messages + "Changes")?.Elements() ?? [])
        {
            var id = change.Descendants(Types + "ItemId").FirstOrDefault();
            if (id?.Attribute("Id")?.Value is not { } itemId) continue;
            if (change.Name == Types + "Delete") deleted.Add(itemId);
            else if (change.Name == Types + "Create" || change.Name == Types + "Update")
            {
                // Only calendar items: meeting requests and the like also live in calendar folders.
                if (change.Elements().FirstOrDefault()?.Name != Types + "CalendarItem") continue;
                changed.Add(new ItemRef(itemId, id.Attribute("ChangeKey")?.Value ?? ""));
            }
        }
        return new SyncPage(changed, deleted, message.Element(Messages + "SyncState")?.Value ?? "",
            message.Element(Messages + "IncludesLastItemInRange")?.Value == "true");
    }

    public async Task<IReadOnlyList<ExchangeEvent>> GetEventsAsync(ExchangeAdminAccount admin, string mailbox,
        IReadOnlyList<string> itemIds, CancellationToken cancellationToken)
    {
        var events = new List<ExchangeEvent>();
        if (itemIds.Count == 0) return events;
        foreach (var item in await GetItemsAsync(admin, mailbox, itemIds, cancellationToken))
        {
            var master = CalendarItemReader.Read(item);
            events.Add(master);
            var exceptions = CalendarItemReader.ModifiedOccurrenceIds(item).ToList();
            if (exceptions.Count == 0) continue;
            foreach (var exception in await GetItemsAsync(admin, mailbox, exceptions, cancellationToken))
                events.Add(CalendarItemReader.Read(exception, seriesMasterId: master.ItemId));
        }
        return events;
    }

    private async Task<List<XElement>> GetItemsAsync(ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> itemIds,
        CancellationToken cancellationToken)
    {
        string[] fields =
        [
            "item:Subject", "item:Body", "item:LastModifiedTime", "calendar:UID", "calendar:Start", "calendar:End",
            "calendar:IsAllDayEvent", "calendar:Location", "calendar:LegacyFreeBusyStatus", "calendar:CalendarItemType",
            "calendar:Organizer", "calendar:RequiredAttendees", "calendar:OptionalAttendees", "calendar:Resources",
            "calendar:Recurrence", "calendar:ModifiedOccurrences", "calendar:DeletedOccurrences", "calendar:OriginalStart",
            "calendar:IsCancelled", "calendar:StartTimeZone", "calendar:EndTimeZone", "item:ReminderIsSet",
            "item:ReminderMinutesBeforeStart",
        ];
        var request = new XElement(Messages + "GetItem",
            new XElement(Messages + "ItemShape", new XElement(Types + "BaseShape", "IdOnly"),
                new XElement(Types + "BodyType", "Text"),
                new XElement(Types + "AdditionalProperties", fields.Select(f => new XElement(Types + "FieldURI", new XAttribute("FieldURI", f))))),
            new XElement(Messages + "ItemIds", itemIds.Select(id => new XElement(Types + "ItemId", new XAttribute("Id", id)))));
        var response = await SendAsync(admin, mailbox, request, cancellationToken);
        var items = new List<XElement>();
        foreach (var message in response.Descendants(Messages + "GetItemResponseMessage"))
        {
            // An item deleted since it was listed is simply gone; the next sync reports its deletion.
            if (message.Element(Messages + "ResponseCode")?.Value == "ErrorItemNotFound") continue;
            EnsureSuccess(message);
            items.AddRange(message.Element(Messages + "Items")?.Elements(Types + "CalendarItem") ?? []);
        }
        return items;
    }

    private static XElement GetFolder() =>
        new(Messages + "GetFolder",
            new XElement(Messages + "FolderShape", new XElement(Types + "BaseShape", "Default")),
            new XElement(Messages + "FolderIds", new XElement(Types + "DistinguishedFolderId", new XAttribute("Id", "calendar"))));

    private static ExchangeCalendarFolder Folder(XElement folder, bool isDefault) =>
        new(folder.Element(Types + "FolderId")!.Attribute("Id")!.Value,
            folder.Element(Types + "DisplayName")?.Value ?? (isDefault ? "Calendar" : "Calendar"), isDefault);

    /// <summary>Posts one SOAP request; transport failures and SOAP faults become <see cref="ExchangeConnectorException"/>s.</summary>
    private async Task<XDocument> SendAsync(ExchangeAdminAccount admin, string? mailbox, XElement operation, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, admin.Endpoint)
        {
            Content = new StringContent(Envelope(operation, mailbox).ToString(SaveOptions.DisableFormatting),
                Encoding.UTF8, "text/xml"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{admin.Username}:{admin.Secret}")));
        if (mailbox is not null) request.Headers.TryAddWithoutValidation("X-AnchorMailbox", mailbox);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"{admin.Endpoint.Host} unreachable: {e.Message}", inner: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"{admin.Endpoint.Host} timed out", inner: e);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized)
                throw new ExchangeConnectorException(ExchangeFailureKind.Unauthorized, "the admin account's credentials were refused (401)");
            if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                throw new ExchangeConnectorException(ExchangeFailureKind.Throttled, $"throttled ({(int)response.StatusCode})",
                    response.Headers.RetryAfter?.Delta);

            XDocument document;
            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                document = await XDocument.LoadAsync(stream, LoadOptions.None, cancellationToken);
            }
            catch (XmlException e)
            {
                throw new ExchangeConnectorException(
                    (int)response.StatusCode >= 500 ? ExchangeFailureKind.Transient : ExchangeFailureKind.Permanent,
                    $"not a SOAP answer (HTTP {(int)response.StatusCode})", inner: e);
            }
            if (BodyOf(document)?.Elements().FirstOrDefault(e => e.Name.LocalName == "Fault") is { } fault) throw FaultOf(fault);
            if (!response.IsSuccessStatusCode)
                throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"HTTP {(int)response.StatusCode}");
            return document;
        }
    }

    /// <summary>A SOAP fault: the code in detail/e:ResponseCode (else faultcode), with BackOffMilliseconds when throttled.</summary>
    private static ExchangeConnectorException FaultOf(XElement fault)
    {
        var code = fault.Descendants(Errors + "ResponseCode").FirstOrDefault()?.Value.Trim()
                   ?? fault.Element("faultcode")?.Value.Split(':').Last().Trim() ?? "";
        var message = fault.Element("faultstring")?.Value.Trim() ?? code;
        var backOff = fault.Descendants(Types + "Value").FirstOrDefault(v => v.Attribute("Name")?.Value == "BackOffMilliseconds")?.Value;
        return Failure(code, message, backOff);
    }

    private static void EnsureSuccess(XElement responseMessage)
    {
        if (responseMessage.Attribute("ResponseClass")?.Value == "Success") return;
        var code = responseMessage.Element(Messages + "ResponseCode")?.Value ?? "";
        if (responseMessage.Attribute("ResponseClass")?.Value == "Warning" && code == "NoError") return;
        var backOff = responseMessage.Descendants(Types + "Value").FirstOrDefault(v => v.Attribute("Name")?.Value == "BackOffMilliseconds")?.Value;
        throw Failure(code, responseMessage.Element(Messages + "MessageText")?.Value ?? code, backOff);
    }

    private static ExchangeConnectorException Failure(string code, string message, string? backOffMilliseconds)
    {
        var kind = code switch
        {
            "ErrorServerBusy" or "ErrorTooManyObjectsOpened" => ExchangeFailureKind.Throttled,
            "ErrorImpersonateUserDenied" or "ErrorImpersonationDenied" or "ErrorImpersonationFailed" => ExchangeFailureKind.ImpersonationDenied,
            "ErrorNonExistentMailbox" or "ErrorMailboxMoveInProgress" => ExchangeFailureKind.MailboxNotFound,
            "ErrorInvalidSyncStateData" => ExchangeFailureKind.InvalidSyncState,
            "ErrorItemNotFound" or "ErrorFolderNotFound" => ExchangeFailureKind.NotFound,
            "ErrorInternalServerError" or "ErrorInternalServerTransientError" or "ErrorMailboxStoreUnavailable" or "ErrorTimeoutExpired"
                => ExchangeFailureKind.Transient,
            _ => ExchangeFailureKind.Permanent,
        };
        TimeSpan? retryAfter = long.TryParse(backOffMilliseconds, NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? TimeSpan.FromMilliseconds(ms) : null;
        return new ExchangeConnectorException(kind, $"{code}: {message}", retryAfter);
    }
}
