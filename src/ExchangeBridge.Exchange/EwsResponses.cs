using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using ExchangeBridge.Core.Exchange;
using static ExchangeBridge.Exchange.EwsNames;

namespace ExchangeBridge.Exchange;

/// <summary>
/// Reads EWS responses. One ResponseMessage is materialised at a time (for GetItem that is one item), so a large
/// batch never sits in memory as a whole document.
/// </summary>
internal static class EwsResponses
{
    private static readonly XmlReaderSettings Settings = new()
    {
        IgnoreWhitespace = true, IgnoreComments = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null,
    };

    /// <summary>The ResponseMessages of a response, each checked; a SOAP fault or an error message throws.</summary>
    /// <param name="tolerate">response codes handed back instead of thrown (e.g. ErrorItemNotFound in a batch).</param>
    public static IEnumerable<XElement> Messages(Stream body, string operation, Func<string, bool>? tolerate = null)
    {
        using var reader = XmlReader.Create(body, Settings);
        if (!reader.ReadToFollowing("Body", SoapUri))
            throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"EWS {operation}: the answer is not a SOAP envelope");
        if (!reader.Read() || reader.NodeType != XmlNodeType.Element)
            throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"EWS {operation}: empty SOAP body");
        if (reader.LocalName == "Fault" && reader.NamespaceURI == SoapUri)
            throw EwsErrors.FromFault((XElement)XNode.ReadFrom(reader), operation);
        if (!reader.ReadToDescendant("ResponseMessages", MessagesUri)) yield break;
        if (reader.IsEmptyElement) yield break;
        reader.Read();
        while (reader.NodeType == XmlNodeType.Element)
        {
            var message = (XElement)XNode.ReadFrom(reader);
            if ((string?)message.Attribute("ResponseClass") == "Error")
            {
                var code = message.Element(M + "ResponseCode")?.Value.Trim() ?? "";
                if (tolerate?.Invoke(code) != true) throw EwsErrors.FromResponseMessage(message, operation);
            }
            yield return message;
        }
    }

    public static bool IsError(XElement message) => (string?)message.Attribute("ResponseClass") == "Error";

    public static XElement Single(Stream body, string operation) =>
        Messages(body, operation).FirstOrDefault()
        ?? throw new ExchangeConnectorException(ExchangeFailureKind.Permanent, $"EWS {operation}: no response message");

    public static ExchangeCalendarFolder ReadFolder(XElement folder, bool isDefault) => new(
        (string?)folder.Element(T + "FolderId")?.Attribute("Id") ?? throw Malformed("folder without FolderId"),
        folder.Element(T + "DisplayName")?.Value ?? "",
        isDefault);

    /// <summary>Calendar folders are t:CalendarFolder; a plain t:Folder counts when its class is IPF.Appointment(.*).</summary>
    public static bool IsCalendarFolder(XElement folder) =>
        folder.Name == T + "CalendarFolder" ||
        (folder.Element(T + "FolderClass")?.Value ?? "").StartsWith("IPF.Appointment", StringComparison.Ordinal);

    /// <summary>A FindFolder/FindItem RootFolder: its children and the offset of the next page (null on the last).</summary>
    public static (IEnumerable<XElement> Children, int? NextOffset) ReadRootFolder(XElement message, XName container)
    {
        var root = message.Element(M + "RootFolder") ?? throw Malformed("no RootFolder");
        var last = (bool?)root.Attribute("IncludesLastItemInRange") ?? true;
        int? next = last ? null : (int?)root.Attribute("IndexedPagingOffset") ?? throw Malformed("no IndexedPagingOffset");
        return (root.Element(container)?.Elements() ?? [], next);
    }

    public static ItemRef ReadItemRef(XElement item)
    {
        var id = item.Element(T + "ItemId") ?? throw Malformed("item without ItemId");
        return new ItemRef((string?)id.Attribute("Id") ?? throw Malformed("ItemId without Id"), (string?)id.Attribute("ChangeKey") ?? "");
    }

    public static SyncPage ReadSyncPage(XElement message)
    {
        var created = new List<ItemRef>();
        var deleted = new List<string>();
        foreach (var change in message.Element(M + "Changes")?.Elements() ?? [])
        {
            switch (change.Name.LocalName)
            {
                case "Create" or "Update" when change.Elements().FirstOrDefault() is { } item:
                    created.Add(ReadItemRef(item));
                    break;
                case "Delete":
                    deleted.Add((string?)change.Element(T + "ItemId")?.Attribute("Id") ?? throw Malformed("Delete without ItemId"));
                    break;
            }
        }
        return new SyncPage(created, deleted,
            message.Element(M + "SyncState")?.Value ?? throw Malformed("no SyncState"),
            (bool?)message.Element(M + "IncludesLastItemInRange") ?? true);
    }

    /// <summary>A t:CalendarItem as the import model sees it, plus the modified occurrences it lists (for masters).</summary>
    public static ParsedCalendarItem ReadCalendarItem(XElement item)
    {
        var id = ReadItemRef(item);
        var type = Text(item, "CalendarItemType") ?? "Single";
        var timeZone = EwsValues.ToIanaTimeZone(Text(item, "StartTimeZoneId")
                                                 ?? (string?)item.Element(T + "StartTimeZone")?.Attribute("Id")
                                                 ?? Text(item, "TimeZone"));
        // A master fetched without calendar:Start still names its first occurrence (Microsoft's recurring-master sample).
        var first = item.Element(T + "FirstOccurrence");
        var start = Date(item, "Start") ?? (first is null ? null : Date(first, "Start")) ?? throw Malformed($"calendar item {id.ItemId} without Start");
        var end = Date(item, "End") ?? (first is null ? null : Date(first, "End")) ?? start;
        var isAllDay = Bool(item, "IsAllDayEvent");
        var recurrence = item.Element(T + "Recurrence") is { } r ? ReadRecurrence(r) : null;
        var rule = recurrence is null ? null : RecurrenceRules.ToRRule(recurrence, start, FindZone(timeZone), isAllDay);
        var reminder = Bool(item, "ReminderIsSet", defaultValue: true) && Text(item, "ReminderMinutesBeforeStart") is { } minutes
            ? int.Parse(minutes, CultureInfo.InvariantCulture)
            : (int?)null;
        var attendees = Attendees(item, "RequiredAttendees", AttendeeKind.Required)
            .Concat(Attendees(item, "OptionalAttendees", AttendeeKind.Optional))
            .Concat(Attendees(item, "Resources", AttendeeKind.Resource))
            .ToList();
        var organizer = item.Element(T + "Organizer")?.Element(T + "Mailbox") is { } o && Person(o) is { } p ? p : null;
        var body = Text(item, "Body");

        var evt = new ExchangeEvent(
            id.ItemId, id.ChangeKey, Text(item, "UID"), Text(item, "Subject") ?? "", string.IsNullOrEmpty(body) ? null : body,
            Text(item, "Location"), start, end, timeZone, isAllDay, organizer, attendees, rule,
            item.Element(T + "DeletedOccurrences")?.Elements(T + "DeletedOccurrence")
                .Select(d => Date(d, "Start") ?? throw Malformed("DeletedOccurrence without Start")).ToList() ?? [],
            SeriesMasterId: null, Date(item, "OriginalStart"), EwsValues.ToFreeBusy(Text(item, "LegacyFreeBusyStatus")),
            reminder, Bool(item, "IsCancelled"), Date(item, "LastModifiedTime"));
        var modified = item.Element(T + "ModifiedOccurrences")?.Elements(T + "Occurrence")
            .Select(occurrence => new ModifiedOccurrence(ReadItemRef(occurrence).ItemId, Date(occurrence, "OriginalStart")))
            .ToList() ?? [];
        return new ParsedCalendarItem(evt, type, modified);
    }

    public static EwsRecurrence? ReadRecurrence(XElement recurrence)
    {
        var elements = recurrence.Elements().ToList();
        var pattern = elements.Select(ReadPattern).FirstOrDefault(p => p is not null);
        var range = elements.Select(ReadRange).FirstOrDefault(r => r is not null);
        return pattern is null || range is null ? null : new EwsRecurrence(pattern, range);
    }

    private static EwsRecurrencePattern? ReadPattern(XElement e) => e.Name.LocalName switch
    {
        "DailyRecurrence" => new EwsRecurrencePattern.Daily(Int(e, "Interval")),
        "WeeklyRecurrence" => new EwsRecurrencePattern.Weekly(Int(e, "Interval"),
            (Text(e, "DaysOfWeek") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries), Text(e, "FirstDayOfWeek")),
        "AbsoluteMonthlyRecurrence" => new EwsRecurrencePattern.AbsoluteMonthly(Int(e, "Interval"), Int(e, "DayOfMonth")),
        "RelativeMonthlyRecurrence" => new EwsRecurrencePattern.RelativeMonthly(Int(e, "Interval"),
            Required(e, "DaysOfWeek"), Required(e, "DayOfWeekIndex")),
        "AbsoluteYearlyRecurrence" => new EwsRecurrencePattern.AbsoluteYearly(Int(e, "DayOfMonth"), Required(e, "Month")),
        "RelativeYearlyRecurrence" => new EwsRecurrencePattern.RelativeYearly(Required(e, "DaysOfWeek"),
            Required(e, "DayOfWeekIndex"), Required(e, "Month")),
        _ => null, // regeneration patterns belong to tasks, not calendar items
    };

    private static EwsRecurrenceRange? ReadRange(XElement e) => e.Name.LocalName switch
    {
        "NoEndRecurrence" => new EwsRecurrenceRange.NoEnd(XsDate(e, "StartDate")),
        "EndDateRecurrence" => new EwsRecurrenceRange.EndDate(XsDate(e, "StartDate"), XsDate(e, "EndDate")),
        "NumberedRecurrence" => new EwsRecurrenceRange.Numbered(XsDate(e, "StartDate"), Int(e, "NumberOfOccurrences")),
        _ => null,
    };

    private static IEnumerable<EventAttendee> Attendees(XElement item, string list, AttendeeKind kind) =>
        from attendee in item.Element(T + list)?.Elements(T + "Attendee") ?? []
        let person = attendee.Element(T + "Mailbox") is { } mailbox ? Person(mailbox) : null
        where person is not null
        select new EventAttendee(person.Name, person.Email, kind, EwsValues.ToAttendeeResponse(Text(attendee, "ResponseType")));

    private static EventPerson? Person(XElement mailbox) =>
        Text(mailbox, "EmailAddress") is { Length: > 0 } email ? new EventPerson(Text(mailbox, "Name"), email) : null;

    private static TimeZoneInfo FindZone(string iana) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(iana, out var zone) ? zone : TimeZoneInfo.Utc;

    private static string? Text(XElement parent, string name) => parent.Element(T + name)?.Value;

    private static string Required(XElement parent, string name) => Text(parent, name) ?? throw Malformed($"{parent.Name.LocalName} without {name}");

    private static int Int(XElement parent, string name) => int.Parse(Required(parent, name), CultureInfo.InvariantCulture);

    private static bool Bool(XElement parent, string name, bool defaultValue = false) =>
        Text(parent, name) is { } value ? XmlConvert.ToBoolean(value) : defaultValue;

    private static DateTimeOffset? Date(XElement parent, string name) =>
        Text(parent, name) is { } value ? DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) : null;

    /// <summary>xs:date may carry a zone suffix ("2014-03-08-08:00"); the calendar date is the first ten characters.</summary>
    private static DateOnly XsDate(XElement parent, string name) =>
        DateOnly.ParseExact(Required(parent, name)[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static ExchangeConnectorException Malformed(string what) =>
        new(ExchangeFailureKind.Permanent, $"EWS answer malformed: {what}");
}

internal sealed record ModifiedOccurrence(string ItemId, DateTimeOffset? OriginalStart);

internal sealed record ParsedCalendarItem(ExchangeEvent Event, string CalendarItemType, IReadOnlyList<ModifiedOccurrence> ModifiedOccurrences);
