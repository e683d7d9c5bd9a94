using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using ExchangeBridge.Core.Exchange;
using static ExchangeBridge.Ews.EwsNames;

namespace ExchangeBridge.Ews;

/// <summary>
/// Reads the t:CalendarItems of a GetItem response straight off the XmlReader, into the import model. Building an
/// XElement tree per item and then looking up each field by name was a third of the server's CPU during an import;
/// only the parts a plain item seldom has (its recurrence, first, deleted and modified occurrences) are still read as
/// small trees. Each field is taken from its first element, as XElement.Element would.
/// </summary>
internal static class EwsCalendarItems
{
    /// <summary>The calendar items of all ResponseMessages, in order; an error message throws unless <paramref name="tolerate"/>d.</summary>
    public static List<ParsedCalendarItem> Read(Stream body, string operation, Func<string, bool> tolerate)
    {
        var items = new List<ParsedCalendarItem>();
        using var reader = XmlReader.Create(body, EwsResponses.Settings);
        if (!EwsResponses.OpenResponseMessages(reader, operation)) return items;
        while (reader.NodeType == XmlNodeType.Element)
        {
            if (reader.GetAttribute("ResponseClass") == "Error")
            {
                EwsResponses.ThrowUnlessTolerated((XElement)XNode.ReadFrom(reader), operation, tolerate);
                continue;
            }
            var seenItems = false;
            var message = Enter(reader);
            while (NextChild(reader, message))
            {
                if (seenItems || !Is(reader, "Items", MessagesUri))
                {
                    reader.Skip();
                    continue;
                }
                seenItems = true;
                var list = Enter(reader);
                while (NextChild(reader, list))
                    if (Is(reader, "CalendarItem", TypesUri)) items.Add(ReadItem(reader));
                    else reader.Skip();
            }
        }
        return items;
    }

    private static ParsedCalendarItem ReadItem(XmlReader r)
    {
        var hasItemId = false;
        string? itemId = null, changeKey = null, type = null, startZoneId = null, startZone = null, zone = null;
        string? start = null, end = null, originalStart = null, lastModified = null, isAllDay = null, reminderIsSet = null;
        string? reminderMinutes = null, isCancelled = null, uid = null, subject = null, body = null, location = null, freeBusy = null;
        string? sensitivity = null, created = null, myResponse = null, meetingUrl = null, endZoneId = null, endZone = null;
        XElement? first = null, recurrence = null, deletedOccurrences = null, modifiedOccurrences = null, startZoneRules = null, endZoneRules = null;
        List<EventAttendee>? required = null, optional = null, resources = null;
        EventPerson? organizer = null;
        var hasOrganizer = false;
        var hasStartZone = false;
        var hasEndZone = false;

        var item = Enter(r);
        while (NextChild(r, item))
        {
            if (r.NamespaceURI != TypesUri)
            {
                r.Skip();
                continue;
            }
            switch (r.LocalName)
            {
                case "ItemId" when !hasItemId:
                    hasItemId = true;
                    itemId = r.GetAttribute("Id");
                    changeKey = r.GetAttribute("ChangeKey");
                    r.Skip();
                    break;
                case "CalendarItemType": First(r, ref type); break;
                case "StartTimeZoneId": First(r, ref startZoneId); break;
                case "StartTimeZone" when !hasStartZone:
                    hasStartZone = true;
                    startZone = ZoneIdOrRules(r, ref startZoneRules);
                    break;
                case "EndTimeZone" when !hasEndZone:
                    hasEndZone = true;
                    endZone = ZoneIdOrRules(r, ref endZoneRules);
                    break;
                case "EndTimeZoneId": First(r, ref endZoneId); break;
                case "Sensitivity": First(r, ref sensitivity); break;
                case "DateTimeCreated": First(r, ref created); break;
                case "MyResponseType": First(r, ref myResponse); break;
                case "JoinOnlineMeetingUrl": First(r, ref meetingUrl); break;
                case "TimeZone": First(r, ref zone); break;
                case "Start": First(r, ref start); break;
                case "End": First(r, ref end); break;
                case "OriginalStart": First(r, ref originalStart); break;
                case "LastModifiedTime": First(r, ref lastModified); break;
                case "IsAllDayEvent": First(r, ref isAllDay); break;
                case "ReminderIsSet": First(r, ref reminderIsSet); break;
                case "ReminderMinutesBeforeStart": First(r, ref reminderMinutes); break;
                case "IsCancelled": First(r, ref isCancelled); break;
                case "UID": First(r, ref uid); break;
                case "Subject": First(r, ref subject); break;
                case "Body": First(r, ref body); break;
                case "Location": First(r, ref location); break;
                case "LegacyFreeBusyStatus": First(r, ref freeBusy); break;
                case "FirstOccurrence": FirstTree(r, ref first); break;
                case "Recurrence": FirstTree(r, ref recurrence); break;
                case "DeletedOccurrences": FirstTree(r, ref deletedOccurrences); break;
                case "ModifiedOccurrences": FirstTree(r, ref modifiedOccurrences); break;
                case "RequiredAttendees" when required is null: required = Attendees(r, AttendeeKind.Required); break;
                case "OptionalAttendees" when optional is null: optional = Attendees(r, AttendeeKind.Optional); break;
                case "Resources" when resources is null: resources = Attendees(r, AttendeeKind.Resource); break;
                case "Organizer" when !hasOrganizer:
                    hasOrganizer = true;
                    organizer = Organizer(r);
                    break;
                default:
                    r.Skip();
                    break;
            }
        }

        if (!hasItemId) throw EwsResponses.Malformed("item without ItemId");
        var id = new ItemRef(itemId ?? throw EwsResponses.Malformed("ItemId without Id"), changeKey ?? "");
        // A master fetched without calendar:Start still names its first occurrence (Microsoft's recurring-master sample).
        var startAt = Date(start) ?? (first is null ? null : EwsResponses.Date(first, "Start"))
                      ?? throw EwsResponses.Malformed($"calendar item {id.ItemId} without Start");
        var endAt = Date(end) ?? (first is null ? null : EwsResponses.Date(first, "End")) ?? startAt;
        var timeZone = Zone(startZoneId ?? startZone ?? zone, startZoneRules, startAt);
        var endTimeZone = Zone(endZoneId ?? endZone ?? startZoneId ?? startZone ?? zone, endZoneRules ?? startZoneRules, endAt);
        var allDay = Bool(isAllDay);
        var pattern = recurrence is null ? null : EwsResponses.ReadRecurrence(recurrence);
        var seriesZone = EwsResponses.FindZone(timeZone);
        var rule = pattern is null ? null : RecurrenceRules.ToRRule(pattern, startAt, seriesZone, allDay);
        var reminder = Bool(reminderIsSet, defaultValue: true) && reminderMinutes is not null
            ? int.Parse(reminderMinutes, CultureInfo.InvariantCulture)
            : (int?)null;
        var attendees = new List<EventAttendee>((required?.Count ?? 0) + (optional?.Count ?? 0) + (resources?.Count ?? 0));
        if (required is not null) attendees.AddRange(required);
        if (optional is not null) attendees.AddRange(optional);
        if (resources is not null) attendees.AddRange(resources);

        var evt = new ExchangeEvent(
            id.ItemId, id.ChangeKey, uid, subject ?? "", string.IsNullOrEmpty(body) ? null : body,
            location, startAt, endAt, timeZone, allDay, organizer, attendees, rule,
            deletedOccurrences?.Elements(T + "DeletedOccurrence")
                .Select(d => EwsResponses.Date(d, "Start") ?? throw EwsResponses.Malformed("DeletedOccurrence without Start")).ToList() ?? [],
            SeriesMasterId: null, Date(originalStart), ExchangeValues.ToFreeBusy(freeBusy),
            reminder, Bool(isCancelled), Date(lastModified), Date(created), endTimeZone == timeZone ? null : endTimeZone,
            pattern is null ? null : SeriesOccurrences.LastStart(pattern, startAt, seriesZone, allDay), ExchangeValues.ToSensitivity(sensitivity),
            string.IsNullOrEmpty(meetingUrl) ? null : meetingUrl, ExchangeValues.ToAttendeeResponse(myResponse));
        var modified = modifiedOccurrences?.Elements(T + "Occurrence")
            .Select(occurrence => new ModifiedOccurrence(EwsResponses.ReadItemRef(occurrence).ItemId, EwsResponses.Date(occurrence, "OriginalStart")))
            .ToList() ?? [];
        return new ParsedCalendarItem(evt, type ?? "Single", modified);
    }

    /// <summary>
    /// A StartTimeZone/EndTimeZone's Id; its rules (Periods and transitions) are kept as a small tree only when the Id names
    /// no zone we know (a "Customized Time Zone"), since a known zone's rules are ours already.
    /// </summary>
    private static string? ZoneIdOrRules(XmlReader r, ref XElement? rules)
    {
        var id = r.GetAttribute("Id");
        if (ExchangeValues.TryToIanaTimeZone(id, out _)) r.Skip();
        else FirstTree(r, ref rules);
        return id;
    }

    /// <summary>
    /// The IANA zone of a start or end: its known id, or the zone whose clock its own rules match (never UTC for a zone
    /// with an offset: a 09:00 Berlin series must stay at 09:00 after the clocks change).
    /// </summary>
    private static string Zone(string? id, XElement? rules, DateTimeOffset at) =>
        ExchangeValues.TryToIanaTimeZone(id, out var iana) ? iana
        : (rules is null ? null : EwsResponses.ReadTimeZoneDefinition(rules, at)?.ToIana(at)) ?? "UTC";

    /// <summary>A t:ArrayOfAttendeesType: each attendee whose first mailbox has an address.</summary>
    private static List<EventAttendee> Attendees(XmlReader r, AttendeeKind kind)
    {
        var attendees = new List<EventAttendee>();
        var list = Enter(r);
        while (NextChild(r, list))
        {
            if (!Is(r, "Attendee", TypesUri))
            {
                r.Skip();
                continue;
            }
            EventPerson? person = null;
            string? response = null;
            var hasMailbox = false;
            var attendee = Enter(r);
            while (NextChild(r, attendee))
                if (!hasMailbox && Is(r, "Mailbox", TypesUri))
                {
                    hasMailbox = true;
                    person = Person(r);
                }
                else if (Is(r, "ResponseType", TypesUri)) First(r, ref response);
                else r.Skip();
            if (person is not null) attendees.Add(new EventAttendee(person.Name, person.Email, kind, ExchangeValues.ToAttendeeResponse(response)));
        }
        return attendees;
    }

    private static EventPerson? Organizer(XmlReader r)
    {
        EventPerson? person = null;
        var hasMailbox = false;
        var organizer = Enter(r);
        while (NextChild(r, organizer))
            if (!hasMailbox && Is(r, "Mailbox", TypesUri))
            {
                hasMailbox = true;
                person = Person(r);
            }
            else r.Skip();
        return person;
    }

    /// <summary>A t:Mailbox: a person when it has an address.</summary>
    private static EventPerson? Person(XmlReader r)
    {
        string? name = null, email = null;
        var mailbox = Enter(r);
        while (NextChild(r, mailbox))
            if (Is(r, "EmailAddress", TypesUri)) First(r, ref email);
            else if (Is(r, "Name", TypesUri)) First(r, ref name);
            else r.Skip();
        return email is { Length: > 0 } ? new EventPerson(name, email) : null;
    }

    private static bool Is(XmlReader r, string localName, string namespaceUri) =>
        r.LocalName == localName && r.NamespaceURI == namespaceUri;

    /// <summary>Steps into the element the reader is on; the depth returned drives <see cref="NextChild"/>.</summary>
    private static int Enter(XmlReader r)
    {
        var depth = r.Depth;
        var empty = r.IsEmptyElement;
        r.Read();
        return empty ? -1 : depth;
    }

    /// <summary>Moves to the next child element of the element entered at <paramref name="depth"/>; past its end tag when none is left.</summary>
    private static bool NextChild(XmlReader r, int depth)
    {
        if (depth < 0) return false;
        while (r.Depth > depth)
        {
            if (r.NodeType == XmlNodeType.Element) return true;
            r.Read();
        }
        r.Read();
        return false;
    }

    /// <summary>The element's text (all its descendant text, as XElement.Value) when it is the first of its name; skipped otherwise.</summary>
    private static void First(XmlReader r, ref string? value)
    {
        if (value is not null)
        {
            r.Skip();
            return;
        }
        if (r.IsEmptyElement)
        {
            r.Read();
            value = "";
            return;
        }
        var depth = r.Depth;
        r.Read();
        string? text = null;
        StringBuilder? more = null;
        while (r.Depth > depth)
        {
            if (r.NodeType is XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace)
            {
                if (text is null) text = r.Value;
                else (more ??= new StringBuilder(text)).Append(r.Value);
            }
            r.Read();
        }
        r.Read();
        value = more?.ToString() ?? text ?? "";
    }

    private static void FirstTree(XmlReader r, ref XElement? tree)
    {
        if (tree is null) tree = (XElement)XNode.ReadFrom(r);
        else r.Skip();
    }

    private static bool Bool(string? value, bool defaultValue = false) => value is null ? defaultValue : XmlConvert.ToBoolean(value);

    private static DateTimeOffset? Date(string? value) => value is null ? null : EwsResponses.ParseDate(value);
}
