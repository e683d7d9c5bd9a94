using System.Globalization;
using System.Xml.Linq;
using ExchangeBridge.Core.Exchange;
using static ExchangeBridge.Exchange.Ews.Ews;

namespace ExchangeBridge.Exchange.Ews;

/// <summary>
/// Reads an EWS <c>t:CalendarItem</c> (GetItem's shape, as in Microsoft's documented samples) into an
/// <see cref="ExchangeEvent"/>: recurrence patterns become RRULEs, Windows time-zone ids become IANA ids.
/// </summary>
public static class CalendarItemReader
{
    public static ExchangeEvent Read(XElement item, string? seriesMasterId = null)
    {
        string? Text(string name) => item.Element(Types + name)?.Value;
        var id = item.Element(Types + "ItemId") ?? throw new FormatException("CalendarItem without ItemId");
        var start = Time(Text("Start")) ?? throw new FormatException("CalendarItem without Start");
        var end = Time(Text("End")) ?? start;
        var zone = IanaZone(item.Element(Types + "StartTimeZone")?.Attribute("Id")?.Value);
        var isAllDay = Text("IsAllDayEvent") == "true";
        var organizer = Person(item.Element(Types + "Organizer")?.Element(Types + "Mailbox"));
        var attendees = Attendees(item, "RequiredAttendees", AttendeeKind.Required)
            .Concat(Attendees(item, "OptionalAttendees", AttendeeKind.Optional))
            .Concat(Attendees(item, "Resources", AttendeeKind.Resource)).ToList();
        var deleted = item.Element(Types + "DeletedOccurrences")?.Elements(Types + "DeletedOccurrence")
            .Select(d => Time(d.Element(Types + "Start")?.Value)).OfType<DateTimeOffset>().ToList() ?? [];
        var isException = Text("CalendarItemType") == "Exception";

        return new ExchangeEvent(
            ItemId: id.Attribute("Id")!.Value,
            ChangeKey: id.Attribute("ChangeKey")?.Value ?? "",
            ICalUid: Text("UID"),
            Subject: Text("Subject") ?? "",
            Body: Text("Body"),
            Location: Text("Location"),
            Start: start,
            End: end,
            TimeZone: zone,
            IsAllDay: isAllDay,
            Organizer: organizer,
            Attendees: attendees,
            RecurrenceRule: item.Element(Types + "Recurrence") is { } recurrence ? RecurrenceRule(recurrence, zone) : null,
            DeletedOccurrences: deleted,
            SeriesMasterId: isException ? seriesMasterId : null,
            OriginalStart: isException ? Time(Text("OriginalStart")) ?? Time(Text("RecurrenceId")) : null,
            FreeBusy: Text("LegacyFreeBusyStatus") switch
            {
                "Free" => FreeBusy.Free,
                "Tentative" => FreeBusy.Tentative,
                "OOF" => FreeBusy.OutOfOffice,
                "WorkingElsewhere" => FreeBusy.WorkingElsewhere,
                _ => FreeBusy.Busy,
            },
            ReminderMinutesBeforeStart: Text("ReminderIsSet") == "true" && int.TryParse(Text("ReminderMinutesBeforeStart"), out var minutes)
                ? minutes : null,
            IsCancelled: Text("IsCancelled") == "true",
            LastModified: Time(Text("LastModifiedTime")));
    }

    /// <summary>The ItemIds of a master's modified occurrences (each a separate Exception item).</summary>
    public static IEnumerable<string> ModifiedOccurrenceIds(XElement item) =>
        item.Element(Types + "ModifiedOccurrences")?.Elements(Types + "Occurrence")
            .Select(o => o.Element(Types + "ItemId")?.Attribute("Id")?.Value).OfType<string>() ?? [];

    /// <summary>An EWS Recurrence (pattern + range) as an RFC 5545 RRULE value.</summary>
    public static string? RecurrenceRule(XElement recurrence, string zone)
    {
        var parts = new List<string>();
        var pattern = recurrence.Elements().FirstOrDefault(e => e.Name.LocalName.EndsWith("Recurrence", StringComparison.Ordinal)
                                                               && !e.Name.LocalName.EndsWith("EndRecurrence", StringComparison.Ordinal)
                                                               && e.Name.LocalName != "EndDateRecurrence" && e.Name.LocalName != "NumberedRecurrence");
        if (pattern is null) return null;
        string? P(string name) => pattern.Element(Types + name)?.Value;
        var interval = int.TryParse(P("Interval"), out var i) && i > 1 ? $";INTERVAL={i}" : "";
        switch (pattern.Name.LocalName)
        {
            case "DailyRecurrence":
                parts.Add("FREQ=DAILY" + interval);
                break;
            case "WeeklyRecurrence":
                parts.Add("FREQ=WEEKLY" + interval);
                parts.Add("BYDAY=" + string.Join(',', Days(P("DaysOfWeek"))));
                if (P("FirstDayOfWeek") is { } first && first != "Monday") parts.Add("WKST=" + Day(first));
                break;
            case "AbsoluteMonthlyRecurrence":
                parts.Add("FREQ=MONTHLY" + interval);
                parts.Add("BYMONTHDAY=" + P("DayOfMonth"));
                break;
            case "RelativeMonthlyRecurrence":
                parts.Add("FREQ=MONTHLY" + interval);
                parts.AddRange(Relative(P("DaysOfWeek"), P("DayOfWeekIndex")));
                break;
            case "AbsoluteYearlyRecurrence":
                parts.Add("FREQ=YEARLY");
                parts.Add("BYMONTH=" + Month(P("Month")));
                parts.Add("BYMONTHDAY=" + P("DayOfMonth"));
                break;
            case "RelativeYearlyRecurrence":
                parts.Add("FREQ=YEARLY");
                parts.Add("BYMONTH=" + Month(P("Month")));
                parts.AddRange(Relative(P("DaysOfWeek"), P("DayOfWeekIndex")));
                break;
            default:
                return null; // Regeneration patterns (tasks) have no calendar meaning.
        }

        if (recurrence.Element(Types + "NumberedRecurrence")?.Element(Types + "NumberOfOccurrences")?.Value is { } count)
            parts.Add("COUNT=" + count);
        else if (recurrence.Element(Types + "EndDateRecurrence")?.Element(Types + "EndDate")?.Value is { } endDate)
            parts.Add("UNTIL=" + Until(endDate, zone));
        return string.Join(';', parts);
    }

    /// <summary>EWS end dates are local dates ("2014-05-10" or "2014-05-10-07:00"): the series runs through that day.</summary>
    private static string Until(string endDate, string zone)
    {
        var date = DateOnly.ParseExact(endDate[..10], "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var local = date.ToDateTime(new TimeOnly(23, 59, 59));
        var utc = TimeZoneInfo.TryFindSystemTimeZoneById(zone, out var tz) ? TimeZoneInfo.ConvertTimeToUtc(local, tz) : local;
        return utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
    }

    private static IEnumerable<string> Relative(string? daysOfWeek, string? index)
    {
        var position = index switch { "First" => "1", "Second" => "2", "Third" => "3", "Fourth" => "4", _ => "-1" };
        return daysOfWeek switch
        {
            // "Day", "Weekday" and "WeekendDay" pick the n-th of a set of days: BYSETPOS over BYDAY.
            "Day" => ["BYDAY=MO,TU,WE,TH,FR,SA,SU", "BYSETPOS=" + position],
            "Weekday" => ["BYDAY=MO,TU,WE,TH,FR", "BYSETPOS=" + position],
            "WeekendDay" => ["BYDAY=SA,SU", "BYSETPOS=" + position],
            _ => ["BYDAY=" + string.Join(',', Days(daysOfWeek).Select(d => position + d))],
        };
    }

    private static IEnumerable<string> Days(string? daysOfWeek) =>
        (daysOfWeek ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Day);

    private static string Day(string day) => day switch
    {
        "Monday" => "MO", "Tuesday" => "TU", "Wednesday" => "WE", "Thursday" => "TH", "Friday" => "FR", "Saturday" => "SA",
        "Sunday" => "SU", _ => throw new FormatException($"unknown day '{day}'"),
    };

    private static int Month(string? month) =>
        Array.IndexOf(CultureInfo.InvariantCulture.DateTimeFormat.MonthNames, month) is var index and >= 0
            ? index + 1 : throw new FormatException($"unknown month '{month}'");

    /// <summary>Windows zone id → IANA (ICU's CLDR table); an IANA id or nothing passes through, UTC by default.</summary>
    public static string IanaZone(string? windowsId)
    {
        if (string.IsNullOrEmpty(windowsId)) return "UTC";
        if (TimeZoneInfo.TryConvertWindowsIdToIanaId(windowsId, out var iana)) return iana;
        return TimeZoneInfo.TryFindSystemTimeZoneById(windowsId, out var zone) ? zone.Id : "UTC";
    }

    private static DateTimeOffset? Time(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t : null;

    private static EventPerson? Person(XElement? mailbox) =>
        mailbox?.Element(Types + "EmailAddress")?.Value is { Length: > 0 } email
            ? new EventPerson(mailbox.Element(Types + "Name")?.Value, email) : null;

    private static IEnumerable<EventAttendee> Attendees(XElement item, string list, AttendeeKind kind) =>
        item.Element(Types + list)?.Elements(Types + "Attendee").Select(a =>
        {
            var person = Person(a.Element(Types + "Mailbox"));
            return person is null ? null : new EventAttendee(person.Name, person.Email, kind, a.Element(Types + "ResponseType")?.Value switch
            {
                "Accept" or "Organizer" => AttendeeResponse.Accept,
                "Tentative" => AttendeeResponse.Tentative,
                "Decline" => AttendeeResponse.Decline,
                _ => AttendeeResponse.NeedsAction,
            });
        }).OfType<EventAttendee>() ?? [];
}
