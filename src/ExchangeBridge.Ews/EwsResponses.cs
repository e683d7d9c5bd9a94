using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using ExchangeBridge.Core.Exchange;
using static ExchangeBridge.Ews.EwsNames;

namespace ExchangeBridge.Ews;

/// <summary>
/// Reads EWS responses. One ResponseMessage is materialised at a time, so a large batch never sits in memory as a
/// whole document; GetItem's calendar items are read with no tree at all (<see cref="EwsCalendarItems"/>).
/// </summary>
internal static class EwsResponses
{
    public static readonly XmlReaderSettings Settings = new()
    {
        IgnoreWhitespace = true, IgnoreComments = true, DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null,
    };

    /// <summary>The ResponseMessages of a response, each checked; a SOAP fault or an error message throws.</summary>
    /// <param name="tolerate">response codes handed back instead of thrown (e.g. ErrorItemNotFound in a batch).</param>
    public static IEnumerable<XElement> Messages(Stream body, string operation, Func<string, bool>? tolerate = null)
    {
        using var reader = XmlReader.Create(body, Settings);
        if (!OpenResponseMessages(reader, operation)) yield break;
        while (reader.NodeType == XmlNodeType.Element)
        {
            var message = (XElement)XNode.ReadFrom(reader);
            if (IsError(message)) ThrowUnlessTolerated(message, operation, tolerate);
            yield return message;
        }
    }

    /// <summary>Moves past the SOAP envelope to the first ResponseMessage; false when there is none. A SOAP fault throws.</summary>
    public static bool OpenResponseMessages(XmlReader reader, string operation)
    {
        if (!reader.ReadToFollowing("Body", SoapUri))
            throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"EWS {operation}: the answer is not a SOAP envelope");
        if (!reader.Read() || reader.NodeType != XmlNodeType.Element)
            throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"EWS {operation}: empty SOAP body");
        if (reader.LocalName == "Fault" && reader.NamespaceURI == SoapUri)
            throw EwsErrors.FromFault((XElement)XNode.ReadFrom(reader), operation);
        if (!reader.ReadToDescendant("ResponseMessages", MessagesUri) || reader.IsEmptyElement) return false;
        reader.Read();
        return true;
    }

    /// <summary>An error ResponseMessage throws unless its response code is one the caller <paramref name="tolerate"/>s.</summary>
    public static void ThrowUnlessTolerated(XElement message, string operation, Func<string, bool>? tolerate)
    {
        var code = message.Element(M + "ResponseCode")?.Value.Trim() ?? "";
        if (tolerate?.Invoke(code) != true) throw EwsErrors.FromResponseMessage(message, operation);
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

    public static ExchangeRecurrence? ReadRecurrence(XElement recurrence)
    {
        var elements = recurrence.Elements().ToList();
        var pattern = elements.Select(ReadPattern).FirstOrDefault(p => p is not null);
        var range = elements.Select(ReadRange).FirstOrDefault(r => r is not null);
        return pattern is null || range is null ? null : new ExchangeRecurrence(pattern, range);
    }

    private static ExchangeRecurrencePattern? ReadPattern(XElement e) => e.Name.LocalName switch
    {
        "DailyRecurrence" => new ExchangeRecurrencePattern.Daily(Int(e, "Interval")),
        "WeeklyRecurrence" => new ExchangeRecurrencePattern.Weekly(Int(e, "Interval"),
            (Text(e, "DaysOfWeek") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries), Text(e, "FirstDayOfWeek")),
        "AbsoluteMonthlyRecurrence" => new ExchangeRecurrencePattern.AbsoluteMonthly(Int(e, "Interval"), Int(e, "DayOfMonth")),
        "RelativeMonthlyRecurrence" => new ExchangeRecurrencePattern.RelativeMonthly(Int(e, "Interval"),
            Required(e, "DaysOfWeek"), Required(e, "DayOfWeekIndex")),
        "AbsoluteYearlyRecurrence" => new ExchangeRecurrencePattern.AbsoluteYearly(Int(e, "DayOfMonth"), Required(e, "Month")),
        "RelativeYearlyRecurrence" => new ExchangeRecurrencePattern.RelativeYearly(Required(e, "DaysOfWeek"),
            Required(e, "DayOfWeekIndex"), Required(e, "Month")),
        _ => null, // regeneration patterns belong to tasks, not calendar items
    };

    private static ExchangeRecurrenceRange? ReadRange(XElement e) => e.Name.LocalName switch
    {
        "NoEndRecurrence" => new ExchangeRecurrenceRange.NoEnd(XsDate(e, "StartDate")),
        "EndDateRecurrence" => new ExchangeRecurrenceRange.EndDate(XsDate(e, "StartDate"), XsDate(e, "EndDate")),
        "NumberedRecurrence" => new ExchangeRecurrenceRange.Numbered(XsDate(e, "StartDate"), Int(e, "NumberOfOccurrences")),
        _ => null,
    };

    /// <summary>
    /// A t:TimeZoneDefinitionType with its own rules (a StartTimeZone/EndTimeZone whose Id names no known zone): the
    /// transitions group in force at <paramref name="at"/> (the last Transition, or AbsoluteDateTransition dated before it,
    /// names it), its periods' biases (UTC = local + bias) and its two yearly RecurringDayTransitions. Null when the
    /// definition carries no periods or rules we cannot read: the item is still worth importing, in UTC.
    /// </summary>
    public static CustomTimeZone? ReadTimeZoneDefinition(XElement definition, DateTimeOffset at)
    {
        try
        {
            return ReadTimeZoneRules(definition, at);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or ExchangeConnectorException)
        {
            return null;
        }
    }

    private static CustomTimeZone? ReadTimeZoneRules(XElement definition, DateTimeOffset at)
    {
        var periods = definition.Element(T + "Periods")?.Elements(T + "Period")
            .ToDictionary(p => p.Attribute("Id")?.Value ?? "", p => -XmlConvert.ToTimeSpan(p.Attribute("Bias")?.Value ?? "PT0H"));
        if (periods is not { Count: > 0 }) return null;
        var groupId = definition.Element(T + "Transitions")?.Elements()
            .Where(t => t.Element(T + "DateTime")?.Value is not { } date || ParseDate(date) <= at)
            .Select(t => t.Element(T + "To")?.Value).LastOrDefault();
        var group = definition.Element(T + "TransitionsGroups")?.Elements(T + "TransitionsGroup")
            .FirstOrDefault(g => g.Attribute("Id")?.Value == groupId);
        var changes = group?.Elements(T + "RecurringDayTransition").Select(t => (
            Offset: periods.GetValueOrDefault(Text(t, "To") ?? ""),
            Rule: new ZoneTransition(Int(t, "Month"), Int(t, "Occurrence"),
                Enum.Parse<DayOfWeek>(Required(t, "DayOfWeek")),
                XmlConvert.ToTimeSpan(Required(t, "TimeOffset"))))).ToList() ?? [];
        var name = definition.Attribute("Name")?.Value;
        if (changes.Count != 2 || changes[0].Offset == changes[1].Offset)
        {
            // No yearly change: the group's one period (or the definition's first) is the zone's offset all year.
            var only = changes.Count > 0 ? changes[0].Offset : periods.Values.First();
            return new CustomTimeZone(name, only);
        }
        var (standard, daylight) = changes[0].Offset < changes[1].Offset ? (changes[0], changes[1]) : (changes[1], changes[0]);
        return new CustomTimeZone(name, standard.Offset, daylight.Offset, ToDaylight: daylight.Rule, ToStandard: standard.Rule);
    }

    public static TimeZoneInfo FindZone(string iana) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(iana, out var zone) ? zone : TimeZoneInfo.Utc;

    private static string? Text(XElement parent, string name) => parent.Element(T + name)?.Value;

    private static string Required(XElement parent, string name) => Text(parent, name) ?? throw Malformed($"{parent.Name.LocalName} without {name}");

    private static int Int(XElement parent, string name) => int.Parse(Required(parent, name), CultureInfo.InvariantCulture);

    public static DateTimeOffset? Date(XElement parent, string name) => Text(parent, name) is { } value ? ParseDate(value) : null;

    public static DateTimeOffset ParseDate(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    /// <summary>xs:date may carry a zone suffix ("2014-03-08-08:00"); the calendar date is the first ten characters.</summary>
    private static DateOnly XsDate(XElement parent, string name) =>
        DateOnly.ParseExact(Required(parent, name)[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static ExchangeConnectorException Malformed(string what) =>
        new(ExchangeFailureKind.Permanent, $"EWS answer malformed: {what}");
}

internal sealed record ModifiedOccurrence(string ItemId, DateTimeOffset? OriginalStart);

internal sealed record ParsedCalendarItem(ExchangeEvent Event, string CalendarItemType, IReadOnlyList<ModifiedOccurrence> ModifiedOccurrences);
