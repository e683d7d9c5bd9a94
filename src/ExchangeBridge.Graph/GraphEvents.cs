using System.Globalization;
using ExchangeBridge.Core.Exchange;
using Microsoft.Graph.Models;
using DayOfWeekObject = Microsoft.Graph.Models.DayOfWeekObject;

namespace ExchangeBridge.Graph;

/// <summary>
/// Graph <c>event</c> resources as the import model sees them. Recurrence goes through the EWS pattern model, whose
/// RRULE translation (<see cref="RecurrenceRules"/>) both connectors share: Graph's patternedRecurrence carries the same
/// six patterns and three ranges as EWS's Recurrence element.
/// </summary>
internal static class GraphEvents
{
    /// <summary>What a full fetch selects: everything the import model needs and nothing heavier (no attachments, no extensions).</summary>
    public static readonly string[] Properties =
    [
        "id", "changeKey", "iCalUId", "subject", "body", "location", "start", "end", "originalStartTimeZone", "isAllDay",
        "organizer", "attendees", "recurrence", "type", "seriesMasterId", "originalStart", "showAs", "isReminderOn",
        "reminderMinutesBeforeStart", "isCancelled", "lastModifiedDateTime",
    ];

    public static ExchangeEvent ToExchangeEvent(Event e)
    {
        var id = e.Id ?? throw Malformed("event without id");
        var zoneId = EwsValues.ToIanaTimeZone(e.OriginalStartTimeZone);
        var start = Instant(e.Start) ?? throw Malformed($"event {id} without start");
        var end = Instant(e.End) ?? start;
        var isAllDay = e.IsAllDay == true;
        var recurrence = e.Recurrence is { } r ? ToEwsRecurrence(r) : null;
        var seriesZone = FindZone(EwsValues.ToIanaTimeZone(e.Recurrence?.Range?.RecurrenceTimeZone is { Length: > 0 } rz ? rz : e.OriginalStartTimeZone));
        var rule = recurrence is null ? null : RecurrenceRules.ToRRule(recurrence, start, seriesZone, isAllDay);
        var attendees = (e.Attendees ?? [])
            .Where(a => !string.IsNullOrEmpty(a.EmailAddress?.Address))
            .Select(a => new EventAttendee(a.EmailAddress!.Name, a.EmailAddress.Address!, a.Type switch
            {
                AttendeeType.Optional => AttendeeKind.Optional,
                AttendeeType.Resource => AttendeeKind.Resource,
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
            rule, deleted, e.Type == EventType.Exception ? e.SeriesMasterId : null, e.OriginalStart, ToFreeBusy(e.ShowAs),
            e.IsReminderOn == false ? null : e.ReminderMinutesBeforeStart, e.IsCancelled == true, e.LastModifiedDateTime);
    }

    /// <summary>Graph's patternedRecurrence in the EWS model's words (day and month names, ordinal words).</summary>
    public static EwsRecurrence? ToEwsRecurrence(PatternedRecurrence recurrence)
    {
        if (recurrence.Pattern is not { Type: { } type } p || recurrence.Range is not { Type: { } rangeType } r) return null;
        var interval = Math.Max(1, p.Interval ?? 1);
        var days = (p.DaysOfWeek ?? []).OfType<DayOfWeekObject>().Select(DayName).ToList();
        EwsRecurrencePattern pattern = type switch
        {
            RecurrencePatternType.Daily => new EwsRecurrencePattern.Daily(interval),
            // Graph always names a first day (sunday by default); it only matters to a rule that skips weeks, so WKST is kept there alone.
            RecurrencePatternType.Weekly => new EwsRecurrencePattern.Weekly(interval, days,
                interval > 1 && p.FirstDayOfWeek is { } first ? DayName(first) : null),
            RecurrencePatternType.AbsoluteMonthly => new EwsRecurrencePattern.AbsoluteMonthly(interval, p.DayOfMonth ?? 1),
            RecurrencePatternType.RelativeMonthly => new EwsRecurrencePattern.RelativeMonthly(interval, DayGroup(days), IndexName(p.Index)),
            RecurrencePatternType.AbsoluteYearly => new EwsRecurrencePattern.AbsoluteYearly(p.DayOfMonth ?? 1, MonthName(p.Month)),
            RecurrencePatternType.RelativeYearly => new EwsRecurrencePattern.RelativeYearly(DayGroup(days), IndexName(p.Index), MonthName(p.Month)),
            _ => throw new FormatException($"unknown recurrence pattern type {type}"),
        };
        var startDate = DateOf(r.StartDate) ?? throw Malformed("recurrence range without startDate");
        EwsRecurrenceRange range = rangeType switch
        {
            RecurrenceRangeType.EndDate => new EwsRecurrenceRange.EndDate(startDate, DateOf(r.EndDate) ?? throw Malformed("endDate range without endDate")),
            RecurrenceRangeType.Numbered => new EwsRecurrenceRange.Numbered(startDate, r.NumberOfOccurrences ?? 1),
            _ => new EwsRecurrenceRange.NoEnd(startDate),
        };
        return new EwsRecurrence(pattern, range);
    }

    /// <summary>
    /// A cancelled occurrence is named by its occurrenceId, <c>OID.{seriesMasterId}.{yyyy-MM-dd}</c> (Microsoft's
    /// series-master sample): the date is the last segment (ids contain dots), in the series' zone; the time of day is
    /// the series'. All-day series start at midnight of that date.
    /// </summary>
    public static DateTimeOffset CancelledStart(string occurrenceId, DateTimeOffset seriesStart, TimeZoneInfo zone, bool isAllDay)
    {
        var date = DateOnly.ParseExact(occurrenceId[(occurrenceId.LastIndexOf('.') + 1)..], "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var timeOfDay = TimeOnly.FromTimeSpan(TimeZoneInfo.ConvertTime(seriesStart, zone).TimeOfDay);
        var local = date.ToDateTime(isAllDay ? TimeOnly.MinValue : timeOfDay, DateTimeKind.Unspecified);
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(zone.IsInvalidTime(local) ? local.AddHours(1) : local, zone), TimeSpan.Zero);
    }

    /// <summary>A dateTimeTimeZone as an instant: UTC when asked for with Prefer outlook.timezone="UTC", else in its own zone.</summary>
    public static DateTimeOffset? Instant(DateTimeTimeZone? value)
    {
        if (value?.DateTime is not { Length: > 0 } text) return null;
        var parsed = DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        if (parsed.Kind != DateTimeKind.Unspecified) return new DateTimeOffset(parsed.ToUniversalTime(), TimeSpan.Zero);
        var zone = FindZone(EwsValues.ToIanaTimeZone(value.TimeZone));
        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(parsed, zone), TimeSpan.Zero);
    }

    private static AttendeeResponse ToResponse(ResponseType? response) => response switch
    {
        ResponseType.Accepted or ResponseType.Organizer => AttendeeResponse.Accept,
        ResponseType.TentativelyAccepted => AttendeeResponse.Tentative,
        ResponseType.Declined => AttendeeResponse.Decline,
        _ => AttendeeResponse.NeedsAction,
    };

    /// <summary>showAs; unknown reads as busy, as EWS's NoData does.</summary>
    private static FreeBusy ToFreeBusy(FreeBusyStatus? showAs) => showAs switch
    {
        FreeBusyStatus.Free => FreeBusy.Free,
        FreeBusyStatus.Tentative => FreeBusy.Tentative,
        FreeBusyStatus.Oof => FreeBusy.OutOfOffice,
        FreeBusyStatus.WorkingElsewhere => FreeBusy.WorkingElsewhere,
        _ => FreeBusy.Busy,
    };

    private static string DayName(DayOfWeekObject day) => day.ToString(); // Sunday … Saturday, EWS's spelling

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

    private static string IndexName(WeekIndex? index) => (index ?? WeekIndex.First).ToString(); // First … Last

    private static string MonthName(int? month) =>
        CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(month is >= 1 and <= 12 ? month.Value : throw Malformed($"month {month}"));

    private static DateOnly? DateOf(Microsoft.Kiota.Abstractions.Date? date) =>
        date is { } d ? new DateOnly(d.Year, d.Month, d.Day) : null;

    private static TimeZoneInfo FindZone(string iana) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(iana, out var zone) ? zone : TimeZoneInfo.Utc;

    private static ExchangeConnectorException Malformed(string what) => new(ExchangeFailureKind.Permanent, $"Graph answer malformed: {what}");
}
