using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Server.Calendars;
using ExchangeBridge.Server.Wire;
using CalendarAttendee = ExchangeBridge.Server.Calendars.EventAttendee;

namespace ExchangeBridge.Server.Import;

/// <summary>An event row as stored: its keys, its time span for queries, and its Open API shape as JSON.</summary>
public sealed record EventRow(
    string EventId, string ExchangeItemId, string? SeriesItemId, string ChangeKey, long StartMs, long EndMs, string Payload);

/// <summary>
/// Turns imported Exchange items into the calendar v4 Open API's event shape. Ids are derived from the Exchange
/// identity, so importing the same item twice yields the same event id. A series is its master (with RRULE) plus
/// one instance per modified occurrence and one cancelled instance per deleted occurrence, as the platform models
/// them ("{uuid}_{original start in seconds}").
/// </summary>
public static class EventPayloads
{
    /// <summary>Where a series with no end reaches, for range queries.</summary>
    private const long Forever = 253402300799000; // 9999-12-31T23:59:59Z

    public static string CalendarIdFor(long bindingKey, string folderId) =>
        $"feishu.cn_{Digest($"{bindingKey}\n{folderId}")[..24]}@group.calendar.feishu.cn";

    /// <summary>
    /// The rows of one item. <paramref name="seriesUuid"/> is the uuid its series (or the single itself) already has, when
    /// stored: an id once given is kept even if the item's id would derive another (rows imported before ids were read in
    /// one form whatever the connector derived theirs from Graph's form).
    /// </summary>
    public static IEnumerable<EventRow> ToRows(ExchangeEvent item, string calendarId, string? ownerUserId, string? seriesUuid = null)
    {
        var uuid = seriesUuid ?? Uuid(calendarId, item.SeriesMasterId ?? item.ItemId);
        var isException = item.SeriesMasterId is not null;
        var eventId = isException ? $"{uuid}_{(item.OriginalStart ?? item.Start).ToUnixTimeSeconds()}" : $"{uuid}_0";
        var view = ToView(item, eventId, calendarId, ownerUserId, isException ? $"{uuid}_0" : null);
        var endMs = item.RecurrenceRule is { } rule ? SeriesEndMs(rule, item.End) : item.End.ToUnixTimeMilliseconds();
        yield return new EventRow(eventId, item.ItemId, item.SeriesMasterId, item.ChangeKey, item.Start.ToUnixTimeMilliseconds(),
            endMs, JsonSerializer.Serialize(view, FeishuJsonContext.Default.CalendarEvent));

        foreach (var deleted in item.DeletedOccurrences)
        {
            var cancelledId = $"{uuid}_{deleted.ToUnixTimeSeconds()}";
            var duration = item.End - item.Start;
            var cancelled = view with
            {
                EventId = cancelledId, Status = "cancelled", IsException = true, RecurringEventId = $"{uuid}_0", Recurrence = null,
                StartTime = Time(deleted, item.IsAllDay, item.TimeZone), EndTime = Time(deleted + duration, item.IsAllDay, item.TimeZone),
            };
            yield return new EventRow(cancelledId, $"{item.ItemId}#deleted@{deleted.ToUnixTimeSeconds()}", item.ItemId, item.ChangeKey,
                deleted.ToUnixTimeMilliseconds(), (deleted + duration).ToUnixTimeMilliseconds(),
                JsonSerializer.Serialize(cancelled, FeishuJsonContext.Default.CalendarEvent));
        }
    }

    /// <summary>The uuid of a series or single from its event id ("{uuid}_0").</summary>
    public static string SeriesUuidOf(string eventId) => eventId[..eventId.LastIndexOf('_')];

    private static CalendarEvent ToView(ExchangeEvent e, string eventId, string calendarId, string? ownerUserId, string? recurringEventId)
    {
        var attendees = e.Attendees.Select(a => new CalendarAttendee("third_party", a.Email, a.Name, Rsvp(a.Response),
            a.Kind == AttendeeKind.Optional, e.Organizer is { } o && string.Equals(o.Email, a.Email, StringComparison.OrdinalIgnoreCase),
            IsExternal: true)).ToList();
        return new CalendarEvent(
            eventId, calendarId, e.Subject, e.Body ?? "",
            Time(e.Start, e.IsAllDay, e.TimeZone), Time(e.End, e.IsAllDay, e.TimeZone),
            Visibility: "default", AttendeeAbility: "none",
            FreeBusyStatus: e.FreeBusy == FreeBusy.Free ? "free" : "busy",
            Location: string.IsNullOrEmpty(e.Location) ? null : new EventLocation(e.Location),
            Color: -1,
            Reminders: e.ReminderMinutesBeforeStart is { } minutes ? [new EventReminder(minutes)] : [],
            Recurrence: e.RecurrenceRule,
            Status: e.IsCancelled ? "cancelled" : "confirmed",
            IsException: recurringEventId is not null,
            RecurringEventId: recurringEventId,
            CreateTime: (e.LastModified ?? e.Start).ToUnixTimeSeconds().ToString(),
            EventOrganizer: e.Organizer is { } organizer ? new EventOrganizer(null, organizer.Name ?? organizer.Email) : null,
            Attendees: attendees);
    }

    private static TimeInfo Time(DateTimeOffset at, bool allDay, string timeZone)
    {
        if (!allDay) return new TimeInfo(Timestamp: at.ToUnixTimeSeconds().ToString(), Timezone: timeZone);
        // An all-day event's date is the calendar date in its own zone.
        var local = TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone) ? TimeZoneInfo.ConvertTime(at, zone) : at;
        return new TimeInfo(Date: local.ToString("yyyy-MM-dd"));
    }

    private static string Rsvp(AttendeeResponse response) => response switch
    {
        AttendeeResponse.Accept => "accept",
        AttendeeResponse.Tentative => "tentative",
        AttendeeResponse.Decline => "decline",
        _ => "needs_action",
    };

    /// <summary>The series' last moment: its UNTIL when it has one, otherwise open-ended (COUNT is bounded by the window query anyway).</summary>
    private static long SeriesEndMs(string rule, DateTimeOffset firstEnd)
    {
        foreach (var part in rule.Split(';'))
        {
            if (!part.StartsWith("UNTIL=", StringComparison.Ordinal)) continue;
            var value = part[6..];
            var formats = new[] { "yyyyMMdd'T'HHmmss'Z'", "yyyyMMdd'T'HHmmss", "yyyyMMdd" };
            if (DateTimeOffset.TryParseExact(value, formats, null,
                    System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var until))
                return Math.Max(until.ToUnixTimeMilliseconds() + (long)TimeSpan.FromDays(1).TotalMilliseconds, firstEnd.ToUnixTimeMilliseconds());
        }
        return Forever;
    }

    private static string Uuid(string calendarId, string itemId)
    {
        var hex = Digest($"{calendarId}\n{itemId}");
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..32]}";
    }

    private static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
