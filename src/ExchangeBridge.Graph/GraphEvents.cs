using System.Globalization;
using ExchangeBridge.Core.Exchange;

namespace ExchangeBridge.Graph;

/// <summary>
/// Graph <c>event</c> resources (read as <see cref="GraphEventJson"/>) as the import model sees them. Recurrence goes
/// through the EWS pattern model, whose RRULE translation (<see cref="RecurrenceRules"/>) both connectors share: Graph's
/// patternedRecurrence carries the same six patterns and three ranges as EWS's Recurrence element.
/// </summary>
internal static class GraphEvents
{
    /// <summary>What a full fetch selects: everything the import model needs and nothing heavier (no attachments, no extensions).</summary>
    public static readonly string[] Properties =
    [
        "id", "changeKey", "iCalUId", "subject", "body", "location", "start", "end", "originalStartTimeZone", "isAllDay",
        "organizer", "attendees", "recurrence", "type", "seriesMasterId", "originalStart", "showAs", "isReminderOn",
        "reminderMinutesBeforeStart", "isCancelled", "lastModifiedDateTime", "createdDateTime", "originalEndTimeZone", "sensitivity",
        "responseStatus", "onlineMeeting", "onlineMeetingUrl",
    ];

    public static ExchangeEvent ToExchangeEvent(GraphEventJson e)
    {
        var id = e.Id ?? throw Malformed("event without id");
        // A legacy custom zone is only named in Graph (tzone://Microsoft/Custom), with no rules to match as EWS's definition
        // has; a series' recurrenceTimeZone, when it names a zone, is the next best, and UTC the last resort.
        var zoneId = ExchangeValues.TryToIanaTimeZone(e.OriginalStartTimeZone, out var original) ? original
            : ExchangeValues.ToIanaTimeZone(e.Recurrence?.Range?.RecurrenceTimeZone);
        var start = Instant(e.Start) ?? throw Malformed($"event {id} without start");
        var end = Instant(e.End) ?? start;
        var isAllDay = e.IsAllDay == true;
        var recurrence = e.Recurrence is { } r ? ToEwsRecurrence(r) : null;
        var seriesZone = FindZone(ExchangeValues.ToIanaTimeZone(e.Recurrence?.Range?.RecurrenceTimeZone is { Length: > 0 } rz ? rz : e.OriginalStartTimeZone));
        var rule = recurrence is null ? null : RecurrenceRules.ToRRule(recurrence, start, seriesZone, isAllDay);
        var endZoneId = ExchangeValues.TryToIanaTimeZone(e.OriginalEndTimeZone, out var endZone) ? endZone : zoneId;
        var attendees = (e.Attendees ?? [])
            .Where(a => !string.IsNullOrEmpty(a.EmailAddress?.Address))
            .Select(a => new EventAttendee(a.EmailAddress!.Name, a.EmailAddress.Address!, Named(a.Type, AttendeeTypes) switch
            {
                "optional" => AttendeeKind.Optional,
                "resource" => AttendeeKind.Resource,
                _ => AttendeeKind.Required,
            }, ToResponse(a.Status?.Response)))
            .ToList();
        var organizer = e.Organizer?.EmailAddress is { Address: { Length: > 0 } address } o ? new EventPerson(o.Name, address) : null;
        var deleted = (e.CancelledOccurrences ?? [])
            .Select(occurrenceId => CancelledStart(occurrenceId, start, seriesZone, isAllDay))
            .ToList();
        return new ExchangeEvent(
            id, e.ChangeKey ?? "", e.ICalUId, e.Subject ?? "", e.Body?.Content is { Length: > 0 } body ? body : null,
            e.Location?.DisplayName is { Length: > 0 } location ? location : null, start, end, zoneId, isAllDay, organizer, attendees,
            rule, deleted, string.Equals(e.Type, "exception", StringComparison.OrdinalIgnoreCase) ? e.SeriesMasterId : null,
            e.OriginalStart, ToFreeBusy(e.ShowAs),
            e.IsReminderOn == false ? null : e.ReminderMinutesBeforeStart, e.IsCancelled == true, e.LastModifiedDateTime,
            e.CreatedDateTime, endZoneId == zoneId ? null : endZoneId,
            recurrence is null ? null : SeriesOccurrences.LastStart(recurrence, start, seriesZone, isAllDay), ToSensitivity(e.Sensitivity),
            // onlineMeetingUrl is the older (Skype) property Graph still fills for some providers; joinUrl is the current one.
            e.OnlineMeeting?.JoinUrl is { Length: > 0 } joinUrl ? joinUrl : e.OnlineMeetingUrl is { Length: > 0 } url ? url : null,
            ToResponse(e.ResponseStatus?.Response));
    }

    /// <summary>Graph's patternedRecurrence in the EWS model's words (day and month names, ordinal words).</summary>
    public static ExchangeRecurrence? ToEwsRecurrence(GraphRecurrenceJson recurrence)
    {
        if (recurrence.Pattern is not { Type: { } type } p || Named(type, PatternTypes) is not { } patternType
            || recurrence.Range is not { Type: { } rangeType } r || Named(rangeType, RangeTypes) is not { } range) return null;
        var interval = Math.Max(1, p.Interval ?? 1);
        var days = (p.DaysOfWeek ?? []).Select(d => Named(d, DayNames)).OfType<string>().ToList();
        ExchangeRecurrencePattern pattern = patternType switch
        {
            "daily" => new ExchangeRecurrencePattern.Daily(interval),
            // Graph always names a first day (sunday by default); it only matters to a rule that skips weeks, so WKST is kept there alone.
            "weekly" => new ExchangeRecurrencePattern.Weekly(interval, days,
                interval > 1 ? Named(p.FirstDayOfWeek, DayNames) : null),
            "absoluteMonthly" => new ExchangeRecurrencePattern.AbsoluteMonthly(interval, p.DayOfMonth ?? 1),
            "relativeMonthly" => new ExchangeRecurrencePattern.RelativeMonthly(interval, DayGroup(days), IndexName(p.Index)),
            "absoluteYearly" => new ExchangeRecurrencePattern.AbsoluteYearly(p.DayOfMonth ?? 1, MonthName(p.Month)),
            _ => new ExchangeRecurrencePattern.RelativeYearly(DayGroup(days), IndexName(p.Index), MonthName(p.Month)),
        };
        var startDate = r.StartDate ?? throw Malformed("recurrence range without startDate");
        ExchangeRecurrenceRange ewsRange = range switch
        {
            "endDate" => new ExchangeRecurrenceRange.EndDate(startDate, r.EndDate ?? throw Malformed("endDate range without endDate")),
            "numbered" => new ExchangeRecurrenceRange.Numbered(startDate, r.NumberOfOccurrences ?? 1),
            _ => new ExchangeRecurrenceRange.NoEnd(startDate),
        };
        return new ExchangeRecurrence(pattern, ewsRange);
    }

    /// <summary>
    /// A cancelled occurrence is named by its occurrenceId, <c>OID.{seriesMasterId}.{yyyy-MM-dd}</c> (Microsoft's
    /// series-master sample): the date is the last segment (ids contain dots), in the series' zone; the time of day is
    /// the series'. All-day series start at midnight of that date.
    /// </summary>
    public static DateTimeOffset CancelledStart(string occurrenceId, DateTimeOffset seriesStart, TimeZoneInfo zone, bool isAllDay)
    {
        var date = DateOnly.ParseExact(occurrenceId[(occurrenceId.LastIndexOf('.') + 1)..], "yyyy-MM-dd", CultureInfo.InvariantCulture);
        return RecurrenceRules.OccurrenceStart(date, seriesStart, zone, isAllDay);
    }

    /// <summary>A dateTimeTimeZone as an instant: UTC when asked for with Prefer outlook.timezone="UTC", else in its own zone.</summary>
    public static DateTimeOffset? Instant(GraphDateTimeZoneJson? value)
    {
        if (value?.DateTime is not { Length: > 0 } text) return null;
        var parsed = DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        if (parsed.Kind != DateTimeKind.Unspecified) return new DateTimeOffset(parsed.ToUniversalTime(), TimeSpan.Zero);
        var zone = FindZone(ExchangeValues.ToIanaTimeZone(value.TimeZone));
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(parsed, zone), TimeSpan.Zero);
    }

    private static AttendeeResponse ToResponse(string? response) => Named(response, Responses) switch
    {
        "accepted" or "organizer" => AttendeeResponse.Accept,
        "tentativelyAccepted" => AttendeeResponse.Tentative,
        "declined" => AttendeeResponse.Decline,
        _ => AttendeeResponse.NeedsAction,
    };

    /// <summary>sensitivity (normal, personal, private, confidential); unknown reads as normal.</summary>
    private static EventSensitivity ToSensitivity(string? sensitivity) => Named(sensitivity, SensitivityValues) switch
    {
        "personal" => EventSensitivity.Personal,
        "private" => EventSensitivity.Private,
        "confidential" => EventSensitivity.Confidential,
        _ => EventSensitivity.Normal,
    };

    /// <summary>showAs; unknown reads as busy, as EWS's NoData does.</summary>
    private static FreeBusy ToFreeBusy(string? showAs) => Named(showAs, ShowAsValues) switch
    {
        "free" => FreeBusy.Free,
        "tentative" => FreeBusy.Tentative,
        "oof" => FreeBusy.OutOfOffice,
        "workingElsewhere" => FreeBusy.WorkingElsewhere,
        _ => FreeBusy.Busy,
    };

    private static readonly string[] AttendeeTypes = ["required", "optional", "resource"];
    private static readonly string[] Responses = ["none", "organizer", "tentativelyAccepted", "accepted", "declined", "notResponded"];
    private static readonly string[] SensitivityValues = ["normal", "personal", "private", "confidential"];
    private static readonly string[] ShowAsValues = ["free", "tentative", "busy", "oof", "workingElsewhere", "unknown"];
    private static readonly string[] PatternTypes = ["daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"];
    private static readonly string[] RangeTypes = ["endDate", "noEnd", "numbered"];
    private static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]; // EWS's spelling
    private static readonly string[] WeekIndexes = ["First", "Second", "Third", "Fourth", "Last"]; // EWS's spelling

    /// <summary>
    /// An enum-valued field in the spelling of <paramref name="values"/>, matched ignoring case as the SDK's parser matches
    /// enum names; an unknown value reads as absent, as it does there.
    /// </summary>
    private static string? Named(string? value, string[] values)
    {
        if (value is null) return null;
        foreach (var known in values)
            if (string.Equals(value, known, StringComparison.OrdinalIgnoreCase)) return known;
        return null;
    }

    /// <summary>EWS names a relative day by one value; Graph lists the days, so the day groups are recognised.</summary>
    private static string DayGroup(IReadOnlyList<string> days)
    {
        var set = days.ToHashSet();
        string[] weekdays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
        if (set.Count == 7) return "Day";
        if (set.SetEquals(weekdays)) return "Weekday";
        if (set.SetEquals(["Saturday", "Sunday"])) return "WeekendDay";
        return days.Count > 0 ? days[0] : throw Malformed("relative pattern without daysOfWeek");
    }

    private static string IndexName(string? index) => Named(index, WeekIndexes) ?? "First";

    private static string MonthName(int? month) =>
        CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(month is >= 1 and <= 12 ? month.Value : throw Malformed($"month {month}"));

    private static TimeZoneInfo FindZone(string iana) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(iana, out var zone) ? zone : TimeZoneInfo.Utc;

    private static ExchangeConnectorException Malformed(string what) => new(ExchangeFailureKind.Permanent, $"Graph answer malformed: {what}");
}
