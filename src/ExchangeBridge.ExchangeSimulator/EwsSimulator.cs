using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>
/// Serves the EWS operations ExchangeBridge uses — GetFolder, FindFolder, FindItem, GetItem, SyncFolderItems — over
/// a <see cref="MailboxStore"/>, shaped like Microsoft's documented samples: SOAP 1.1, Basic authentication (401
/// otherwise), ExchangeImpersonation by SMTP address, per-item response messages with ResponseCodes, SOAP faults
/// with HTTP 500 for ErrorServerBusy (with BackOffMilliseconds), ErrorExceededConnectionCount, ErrorImpersonateUserDenied,
/// ErrorNonExistentMailbox and schema errors; throttling as <see cref="MailboxStore.EnforceThrottling"/> sets it. It is a simulator for tests and demos, not Exchange.
/// </summary>
public static class EwsSimulator
{
    private static readonly XNamespace S = "http://schemas.xmlsoap.org/soap/envelope/";
    private static readonly XNamespace T = "http://schemas.microsoft.com/exchange/services/2006/types";
    private static readonly XNamespace M = "http://schemas.microsoft.com/exchange/services/2006/messages";
    private static readonly XNamespace E = "http://schemas.microsoft.com/exchange/services/2006/errors";
    private const int MaxSyncChanges = 512;

    private static readonly HashSet<string> ServerVersions =
        ["Exchange2007", "Exchange2007_SP1", "Exchange2010", "Exchange2010_SP1", "Exchange2010_SP2", "Exchange2013", "Exchange2013_SP1"];

    public static IEndpointConventionBuilder MapEwsSimulator(this IEndpointRouteBuilder app, MailboxStore store,
        string path = "/EWS/Exchange.asmx") =>
        app.MapPost(path, context => HandleAsync(context, store)).WithName("EwsSimulator").WithSummary("EWS simulator (not Exchange)");

    private static async Task HandleAsync(HttpContext context, MailboxStore store)
    {
        if (!TryBasic(context.Request, out var username, out var password) || !store.TryAuthenticate(username, password))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.Append("WWW-Authenticate", "Negotiate");
            context.Response.Headers.Append("WWW-Authenticate", "NTLM");
            context.Response.Headers.Append("WWW-Authenticate", "Basic realm=\"simulator\"");
            return;
        }
        // A connection counts against the calling account's EWSMaxConcurrency from its arrival to its answer; the service
        // account's budget is its own, apart from those of the mailboxes it impersonates (Exchange 2010 SP2 RU4 on).
        using var connection = store.Throttle.EnterEws(username);
        if (connection is null)
        {
            await Fault(context, "ErrorExceededConnectionCount",
                "You have exceeded the available concurrent connections for your account. Try again once your other requests have completed.");
            return;
        }
        // Closed as the answer starts, not after it is written: a client that has read the answer may open its next
        // connection before this handler returns, and must not find this one still counted.
        context.Response.OnStarting(static slot => { ((IDisposable)slot).Dispose(); return Task.CompletedTask; }, connection);
        if (store.TakeBusy(out var backOffMs))
        {
            await ServerBusy(context, backOffMs);
            return;
        }

        XDocument request;
        try
        {
            request = await XDocument.LoadAsync(context.Request.Body, LoadOptions.None, context.RequestAborted);
        }
        catch (XmlException e)
        {
            await Fault(context, "ErrorSchemaValidation", $"The request failed schema validation: {e.Message}");
            return;
        }
        var body = request.Root?.Name == S + "Envelope" ? request.Root.Element(S + "Body") : null;
        var operation = body?.Elements().FirstOrDefault();
        if (operation is null || operation.Name.Namespace != M)
        {
            await Fault(context, "ErrorSchemaValidation", "The request failed schema validation: no SOAP 1.1 envelope with an EWS operation.");
            return;
        }

        var header = request.Root!.Element(S + "Header");
        if (header?.Element(T + "RequestServerVersion") is { } version && !ServerVersions.Contains(version.Attribute("Version")?.Value ?? ""))
        {
            await Fault(context, "ErrorInvalidServerVersion", "The specified server version is invalid.");
            return;
        }
        var sid = header?.Element(T + "ExchangeImpersonation")?.Element(T + "ConnectingSID");
        var mailboxAddress = username;
        if (sid is not null)
        {
            mailboxAddress = (sid.Element(T + "PrimarySmtpAddress") ?? sid.Element(T + "SmtpAddress") ?? sid.Element(T + "PrincipalName"))?.Value ?? "";
            if (store.Mailbox(mailboxAddress) is null)
            {
                await Fault(context, "ErrorNonExistentMailbox", $"The SMTP address has no mailbox associated with it.");
                return;
            }
            if (!store.MayImpersonate(username, mailboxAddress))
            {
                await Fault(context, "ErrorImpersonateUserDenied", "The account does not have permission to impersonate the requested user.");
                return;
            }
        }
        if (store.Throttle.ChargeEws(mailboxAddress) is { } overBudget)
        {
            await ServerBusy(context, (long)overBudget.TotalMilliseconds);
            return;
        }
        if (store.TakeFault(mailboxAddress, out var fault, out var faultBackOffMs))
        {
            await InjectedFault(context, fault, faultBackOffMs);
            return;
        }
        var mailbox = store.Mailbox(mailboxAddress)!;

        XElement response;
        try
        {
            response = operation.Name.LocalName switch
            {
                "GetFolder" => GetFolder(operation, mailbox),
                "FindFolder" => FindFolder(operation, mailbox),
                "FindItem" => FindItem(operation, mailbox),
                "GetItem" => GetItem(operation, mailbox),
                "SyncFolderItems" => SyncFolderItems(operation, mailbox),
                _ => throw new SchemaException($"The operation '{operation.Name.LocalName}' is not supported by this simulator."),
            };
        }
        catch (Exception e) when (e is SchemaException or FormatException or NullReferenceException)
        {
            await Fault(context, "ErrorSchemaValidation", $"The request failed schema validation: {e.Message}");
            return;
        }
        await store.Throttle.ServeEwsAsync(operation.Name.LocalName, context.RequestAborted);
        await Write(context, StatusCodes.Status200OK, response);
    }

    private static XElement GetFolder(XElement request, SimMailbox mailbox)
    {
        var messages = new XElement(M + "ResponseMessages");
        foreach (var id in Required(request, M + "FolderIds").Elements())
        {
            var folder = ResolveFolder(id, mailbox);
            messages.Add(folder is null
                ? Error("GetFolderResponseMessage", "ErrorFolderNotFound", "The specified folder could not be found in the store.")
                : new XElement(M + "GetFolderResponseMessage", new XAttribute("ResponseClass", "Success"),
                    new XElement(M + "ResponseCode", "NoError"), new XElement(M + "Folders", FolderElement(folder))));
        }
        return new XElement(M + "GetFolderResponse", messages);
    }

    private static XElement FindFolder(XElement request, SimMailbox mailbox)
    {
        var parent = ResolveFolder(Required(request, M + "ParentFolderIds").Elements().First(), mailbox);
        if (parent is null)
            return new XElement(M + "FindFolderResponse", new XElement(M + "ResponseMessages",
                Error("FindFolderResponseMessage", "ErrorFolderNotFound", "The specified folder could not be found in the store.")));
        // Sub-calendars live under the default calendar; a shallow search of another folder finds nothing.
        var children = parent.IsDefault ? mailbox.Folders.Values.Where(f => !f.IsDefault).OrderBy(f => f.DisplayName).ToList() : [];
        return new XElement(M + "FindFolderResponse", new XElement(M + "ResponseMessages",
            new XElement(M + "FindFolderResponseMessage", new XAttribute("ResponseClass", "Success"), new XElement(M + "ResponseCode", "NoError"),
                new XElement(M + "RootFolder", new XAttribute("TotalItemsInView", children.Count), new XAttribute("IncludesLastItemInRange", "true"),
                    new XElement(T + "Folders", children.Select(FolderElement))))));
    }

    private static XElement FindItem(XElement request, SimMailbox mailbox)
    {
        Required(request, M + "ItemShape");
        var folder = ResolveFolder(Required(request, M + "ParentFolderIds").Elements().First(), mailbox);
        if (folder is null)
            return new XElement(M + "FindItemResponse", new XElement(M + "ResponseMessages",
                Error("FindItemResponseMessage", "ErrorFolderNotFound", "The specified folder could not be found in the store.")));
        var view = request.Element(M + "IndexedPageItemView");
        var offset = int.Parse(view?.Attribute("Offset")?.Value ?? "0", CultureInfo.InvariantCulture);
        var max = int.Parse(view?.Attribute("MaxEntriesReturned")?.Value ?? "1000", CultureInfo.InvariantCulture);
        var restriction = request.Element(M + "Restriction")?.Elements().FirstOrDefault();
        var key = restriction?.ToString(SaveOptions.DisableFormatting) ?? "";
        List<SimCalendarItem> matching;
        lock (folder.Gate)
        {
            if (folder.LastQuery is { } last && last.Restriction == key && last.Sequence == folder.Sequence)
                matching = last.Items;
            else
            {
                matching = folder.Items.Values.Where(i => restriction is null || Matches(restriction, i))
                    .OrderBy(i => i.Start).ThenBy(i => i.ItemId, StringComparer.Ordinal).ToList();
                folder.LastQuery = (key, folder.Sequence, matching);
            }
        }
        var page = matching.Skip(offset).Take(max).ToList();
        var next = offset + page.Count;
        return new XElement(M + "FindItemResponse", new XElement(M + "ResponseMessages",
            new XElement(M + "FindItemResponseMessage", new XAttribute("ResponseClass", "Success"), new XElement(M + "ResponseCode", "NoError"),
                new XElement(M + "RootFolder", new XAttribute("IndexedPagingOffset", next), new XAttribute("TotalItemsInView", matching.Count),
                    new XAttribute("IncludesLastItemInRange", next >= matching.Count ? "true" : "false"),
                    new XElement(T + "Items", page.Select(i => new XElement(T + "CalendarItem", IdElement(i.ItemId, i.ChangeKey))))))));
    }

    private static XElement GetItem(XElement request, SimMailbox mailbox)
    {
        Required(request, M + "ItemShape");
        var messages = new XElement(M + "ResponseMessages");
        foreach (var id in Required(request, M + "ItemIds").Elements())
        {
            // RecurringMasterItemId names an occurrence or exception and asks for its series' master.
            var wantsMaster = id.Name == T + "RecurringMasterItemId";
            if (!wantsMaster && id.Name != T + "ItemId") throw new SchemaException($"The simulator does not resolve {id.Name.LocalName}.");
            var itemId = id.Attribute(wantsMaster ? "OccurrenceId" : "Id")?.Value ?? throw new SchemaException($"{id.Name.LocalName} without its id");
            var found = MailboxStore.FindItemById(mailbox, itemId);
            if (wantsMaster) found = found is (SimCalendarItem master, SimException) ? (master, null) : (null, null);
            messages.Add(found switch
            {
                (SimCalendarItem item, null) => Success(item.ItemId, ItemElement(item)),
                (SimCalendarItem master, SimException exception) => Success(exception.ItemId, ExceptionElement(master, exception)),
                _ => Error("GetItemResponseMessage", "ErrorItemNotFound", "The specified object was not found in the store."),
            });
        }
        return new XElement(M + "GetItemResponse", messages);

        static XElement Success(string _, XElement item) =>
            new(M + "GetItemResponseMessage", new XAttribute("ResponseClass", "Success"), new XElement(M + "ResponseCode", "NoError"),
                new XElement(M + "Items", item));
    }

    private static XElement SyncFolderItems(XElement request, SimMailbox mailbox)
    {
        Required(request, M + "ItemShape");
        var folder = ResolveFolder(Required(request, M + "SyncFolderId").Elements().First(), mailbox);
        var max = int.Parse(Required(request, M + "MaxChangesReturned").Value, CultureInfo.InvariantCulture);
        if (max is < 1 or > MaxSyncChanges) throw new SchemaException($"MaxChangesReturned must be 1..{MaxSyncChanges}");
        if (folder is null)
            return SyncResponse(Error("SyncFolderItemsResponseMessage", "ErrorFolderNotFound", "The specified folder could not be found in the store."));

        long since = 0;
        if (request.Element(M + "SyncState")?.Value is { Length: > 0 } state && !TryDecodeState(state, folder, out since))
            return SyncResponse(new XElement(M + "SyncFolderItemsResponseMessage", new XAttribute("ResponseClass", "Error"),
                new XElement(M + "MessageText", "Synchronization state data is corrupt or otherwise invalid."),
                new XElement(M + "ResponseCode", "ErrorInvalidSyncStateData"), new XElement(M + "DescriptiveLinkKey", 0),
                new XElement(M + "SyncState"), new XElement(M + "IncludesLastItemInRange", "true")));

        var changes = new XElement(M + "Changes");
        long last = since;
        bool includesLast;
        lock (folder.Gate)
        {
            var seen = new HashSet<string>();
            var start = folder.FirstChangeAfter(since);
            var index = start;
            for (; index < folder.Changes.Count && seen.Count < max; index++)
            {
                var (sequence, itemId) = folder.Changes[index];
                last = sequence;
                if (!seen.Add(itemId)) continue;
                var createdAfter = folder.CreatedAt[itemId] > since;
                if (folder.Items.TryGetValue(itemId, out var item))
                    changes.Add(new XElement(T + (createdAfter ? "Create" : "Update"), new XElement(T + "CalendarItem", IdElement(item.ItemId, item.ChangeKey))));
                else if (!createdAfter)
                    changes.Add(new XElement(T + "Delete", new XElement(T + "ItemId", new XAttribute("Id", itemId))));
            }
            includesLast = index >= folder.Changes.Count;
        }
        return SyncResponse(new XElement(M + "SyncFolderItemsResponseMessage", new XAttribute("ResponseClass", "Success"),
            new XElement(M + "ResponseCode", "NoError"), new XElement(M + "SyncState", EncodeState(folder, last)),
            new XElement(M + "IncludesLastItemInRange", includesLast ? "true" : "false"), changes));

        static XElement SyncResponse(XElement message) => new(M + "SyncFolderItemsResponse", new XElement(M + "ResponseMessages", message));
    }

    private static string EncodeState(SimFolder folder, long sequence) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"sim2\n{folder.FolderId}\n{folder.Epoch}\n{sequence}"));

    private static bool TryDecodeState(string state, SimFolder folder, out long sequence)
    {
        sequence = 0;
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(state)).Split('\n');
            return parts is ["sim2", var folderId, var epoch, var seq] && folderId == folder.FolderId &&
                   epoch == folder.Epoch.ToString(CultureInfo.InvariantCulture) && long.TryParse(seq, out sequence);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static SimFolder? ResolveFolder(XElement id, SimMailbox mailbox) =>
        id.Name.LocalName switch
        {
            "DistinguishedFolderId" when id.Attribute("Id")?.Value == "calendar" => mailbox.Folders.Values.First(f => f.IsDefault),
            "FolderId" => mailbox.Folders.GetValueOrDefault(id.Attribute("Id")?.Value ?? ""),
            _ => null,
        };

    private static bool Matches(XElement restriction, SimCalendarItem item)
    {
        switch (restriction.Name.LocalName)
        {
            case "And": return restriction.Elements().All(e => Matches(e, item));
            case "Or": return restriction.Elements().Any(e => Matches(e, item));
            case "Not": return !Matches(restriction.Elements().First(), item);
        }
        var field = restriction.Element(T + "FieldURI")?.Attribute("FieldURI")?.Value ?? throw new SchemaException("restriction without FieldURI");
        var constant = restriction.Element(T + "FieldURIOrConstant")?.Element(T + "Constant")?.Attribute("Value")?.Value
                       ?? throw new SchemaException("restriction without a constant");
        int comparison = field switch
        {
            "calendar:Start" => item.Start.CompareTo(DateTimeOffset.Parse(constant, CultureInfo.InvariantCulture)),
            "calendar:End" => item.End.CompareTo(DateTimeOffset.Parse(constant, CultureInfo.InvariantCulture)),
            "calendar:CalendarItemType" => string.CompareOrdinal(item.Recurrence is null ? "Single" : "RecurringMaster", constant),
            "item:Subject" => string.CompareOrdinal(item.Subject, constant),
            _ => throw new SchemaException($"unsupported FieldURI {field}"),
        };
        return restriction.Name.LocalName switch
        {
            "IsEqualTo" => comparison == 0,
            "IsNotEqualTo" => comparison != 0,
            "IsLessThan" => comparison < 0,
            "IsLessThanOrEqualTo" => comparison <= 0,
            "IsGreaterThan" => comparison > 0,
            "IsGreaterThanOrEqualTo" => comparison >= 0,
            _ => throw new SchemaException($"unsupported restriction {restriction.Name.LocalName}"),
        };
    }

    private static XElement ItemElement(SimCalendarItem item)
    {
        var element = new XElement(T + "CalendarItem",
            IdElement(item.ItemId, item.ChangeKey),
            new XElement(T + "Subject", item.Subject),
            new XElement(T + "Sensitivity", item.Sensitivity),
            item.Body is null ? null : new XElement(T + "Body", new XAttribute("BodyType", "Text"), item.Body),
            new XElement(T + "DateTimeCreated", Time(item.Created)),
            new XElement(T + "ReminderIsSet", item.ReminderMinutes is null ? "false" : "true"),
            new XElement(T + "ReminderMinutesBeforeStart", item.ReminderMinutes ?? 0),
            new XElement(T + "LastModifiedTime", Time(item.LastModified)),
            new XElement(T + "UID", item.Uid ?? item.ItemId),
            new XElement(T + "Start", Time(item.Start)),
            new XElement(T + "End", Time(item.End)),
            new XElement(T + "IsAllDayEvent", item.IsAllDay ? "true" : "false"),
            new XElement(T + "LegacyFreeBusyStatus", item.FreeBusy),
            item.Location is null ? null : new XElement(T + "Location", item.Location),
            new XElement(T + "IsCancelled", item.IsCancelled ? "true" : "false"),
            new XElement(T + "CalendarItemType", item.Recurrence is null ? "Single" : "RecurringMaster"),
            new XElement(T + "MyResponseType", item.MyResponse),
            item.Organizer is null ? null : new XElement(T + "Organizer", Mailbox(item.Organizer.Name, item.Organizer.Email)),
            Attendees("RequiredAttendees", item.Attendees.Where(a => !a.Optional)),
            Attendees("OptionalAttendees", item.Attendees.Where(a => a.Optional)));
        if (item.Recurrence is { } recurrence)
        {
            element.Add(XElement.Parse($"<t:Recurrence xmlns:t=\"{T}\">{recurrence.PatternXml}{recurrence.RangeXml}</t:Recurrence>"));
            if (item.Exceptions.Count > 0)
                element.Add(new XElement(T + "ModifiedOccurrences", item.Exceptions.Select(e => new XElement(T + "Occurrence",
                    IdElement(e.ItemId, ChangeKeyOf(e)), new XElement(T + "Start", Time(e.Start)), new XElement(T + "End", Time(e.End)),
                    new XElement(T + "OriginalStart", Time(e.OriginalStart))))));
            if (item.DeletedOccurrences.Count > 0)
                element.Add(new XElement(T + "DeletedOccurrences", item.DeletedOccurrences.Select(d =>
                    new XElement(T + "DeletedOccurrence", new XElement(T + "Start", Time(d))))));
        }
        element.Add(ZoneDefinition("StartTimeZone", item.TimeZoneId, item.CustomTimeZoneRulesXml),
            ZoneDefinition("EndTimeZone", item.EndTimeZoneId ?? item.TimeZoneId, item.EndTimeZoneId is null ? item.CustomTimeZoneRulesXml : null),
            item.OnlineMeetingUrl is null ? null : new XElement(T + "JoinOnlineMeetingUrl", item.OnlineMeetingUrl));
        return element;
    }

    /// <summary>
    /// A t:TimeZoneDefinitionType as Exchange answers calendar:StartTimeZone/EndTimeZone: the Id (and Name), with the rules
    /// of a custom zone inside. A known zone's rules are left out (Exchange sends them; a reader that knows the Id needs none).
    /// </summary>
    private static XElement ZoneDefinition(string element, string id, string? rulesXml)
    {
        var definition = new XElement(T + element, new XAttribute("Id", id), new XAttribute("Name", id));
        if (rulesXml is not null) definition.Add(XElement.Parse($"<t:Rules xmlns:t=\"{T}\">{rulesXml}</t:Rules>").Elements());
        return definition;
    }

    private static XElement ExceptionElement(SimCalendarItem master, SimException exception)
    {
        var element = ItemElement(master with
        {
            ItemId = exception.ItemId, Subject = exception.Subject, Start = exception.Start, End = exception.End,
            Location = exception.Location ?? master.Location, Recurrence = null, Exceptions = [], DeletedOccurrences = [],
        });
        element.Element(T + "ItemId")!.SetAttributeValue("ChangeKey", ChangeKeyOf(exception));
        element.Element(T + "CalendarItemType")!.Value = "Exception";
        element.Element(T + "End")!.AddAfterSelf(new XElement(T + "OriginalStart", Time(exception.OriginalStart)));
        return element;
    }

    private static string ChangeKeyOf(SimException exception) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"ck:{exception.ItemId}:{exception.Version}"));

    private static XElement? Attendees(string list, IEnumerable<SimAttendee> attendees)
    {
        var all = attendees.ToList();
        return all.Count == 0 ? null : new XElement(T + list, all.Select(a =>
            new XElement(T + "Attendee", Mailbox(a.Name, a.Email), new XElement(T + "ResponseType", a.Response))));
    }

    private static XElement Mailbox(string? name, string email) =>
        new(T + "Mailbox", name is null ? null : new XElement(T + "Name", name), new XElement(T + "EmailAddress", email),
            new XElement(T + "RoutingType", "SMTP"), new XElement(T + "MailboxType", "Mailbox"));

    private static XElement FolderElement(SimFolder folder)
    {
        int count;
        lock (folder.Gate) count = folder.Items.Count;
        return new XElement(T + "CalendarFolder",
            new XElement(T + "FolderId", new XAttribute("Id", folder.FolderId), new XAttribute("ChangeKey", "AgAAABYAAAA=")),
            new XElement(T + "DisplayName", folder.DisplayName), new XElement(T + "TotalCount", count),
            new XElement(T + "ChildFolderCount", 0));
    }

    private static XElement IdElement(string id, string changeKey) =>
        new(T + "ItemId", new XAttribute("Id", id), new XAttribute("ChangeKey", changeKey));

    private static XElement Error(string message, string code, string text) =>
        new(M + message, new XAttribute("ResponseClass", "Error"), new XElement(M + "MessageText", text),
            new XElement(M + "ResponseCode", code), new XElement(M + "DescriptiveLinkKey", 0));

    private static XElement Required(XElement request, XName name) =>
        request.Element(name) ?? throw new SchemaException($"The element '{name.LocalName}' is required.");

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static Task ServerBusy(HttpContext context, long backOffMs) =>
        Fault(context, "ErrorServerBusy", "The server cannot service this request right now. Try again later.",
            new XElement(T + "MessageXml", new XElement(T + "Value", new XAttribute("Name", "BackOffMilliseconds"), backOffMs)));

    /// <summary>An outage of the mailbox (<see cref="MailboxStore.InjectFault"/>): the request-level errors come as SOAP faults with HTTP 500.</summary>
    private static async Task InjectedFault(HttpContext context, SimFault fault, long backOffMs)
    {
        switch (fault)
        {
            case SimFault.ServerBusy:
                await ServerBusy(context, backOffMs);
                break;
            case SimFault.InternalServerError:
                await Fault(context, "ErrorInternalServerTransientError", "An internal server error occurred. Try again later.");
                break;
            case SimFault.Refuse:
                context.Abort();
                break;
            case SimFault.Hang:
                await MailboxStore.HangAsync(context.RequestAborted);
                break;
        }
    }

    private static Task Fault(HttpContext context, string code, string message, XElement? extra = null) =>
        Write(context, StatusCodes.Status500InternalServerError, new XElement(S + "Fault",
            new XElement("faultcode", new XAttribute(XNamespace.Xmlns + "a", T), "a:" + code),
            new XElement("faultstring", new XAttribute(XNamespace.Xml + "lang", "en-US"), message),
            new XElement("detail",
                new XElement(E + "ResponseCode", new XAttribute(XNamespace.Xmlns + "e", E), code),
                new XElement(E + "Message", message),
                extra)), header: false);

    private static async Task Write(HttpContext context, int status, XElement body, bool header = true)
    {
        var envelope = new XElement(S + "Envelope", new XAttribute(XNamespace.Xmlns + "s", S),
            header ? new XElement(S + "Header", new XElement(T + "ServerVersionInfo", new XAttribute(XNamespace.Xmlns + "h", T),
                new XAttribute("MajorVersion", 15), new XAttribute("MinorVersion", 1), new XAttribute("MajorBuildNumber", 2507),
                new XAttribute("MinorBuildNumber", 6), new XAttribute("Version", "V2017_07_11"))) : null,
            new XElement(S + "Body", body));
        foreach (var message in body.Descendants().Where(e => e.Name.Namespace == M && e.Parent?.Name == M + "ResponseMessages"))
        {
            message.SetAttributeValue(XNamespace.Xmlns + "m", M);
            message.SetAttributeValue(XNamespace.Xmlns + "t", T);
        }
        if (body.Name.Namespace == M)
        {
            body.SetAttributeValue(XNamespace.Xmlns + "m", M);
            body.SetAttributeValue(XNamespace.Xmlns + "t", T);
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/xml; charset=utf-8";
        await using var writer = XmlWriter.Create(context.Response.Body, new XmlWriterSettings { Async = true, Encoding = new UTF8Encoding(false) });
        await new XDocument(new XDeclaration("1.0", "utf-8", null), envelope).WriteToAsync(writer, context.RequestAborted);
    }

    private static bool TryBasic(HttpRequest request, out string username, out string password)
    {
        username = password = "";
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = decoded.IndexOf(':');
            if (colon < 0) return false;
            (username, password) = (decoded[..colon], decoded[(colon + 1)..]);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private sealed class SchemaException(string message) : Exception(message);
}
