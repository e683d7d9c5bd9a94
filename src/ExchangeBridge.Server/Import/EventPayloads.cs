using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Server.Calendars;
using ExchangeBridge.Server.Wire;
using CalendarAttendee = ExchangeBridge.Server.Calendars.EventAttendee;

namespace ExchangeBridge.Server.Import;

/// <summary>
/// An event row as stored: its keys, its time span for queries, its Open API shape as JSON, and what free/busy reads of
/// that shape (<paramref name="Facts"/>, stored in its own columns so that free/busy never reads the payload).
/// </summary>
public sealed record EventRow(
    string EventId, string ExchangeItemId, string? SeriesItemId, string ChangeKey, long StartMs, long EndMs, string Payload,
    StoredEventFacts Facts);

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
        $"feishu.cn_{HexDigest($"{bindingKey}\n{folderId}", 24)}@group.calendar.feishu.cn";

    /// <summary>
    /// The rows of one item. <paramref name="seriesUuid"/> is the uuid its series (or the single itself) already has, when
    /// stored: an id once given is kept even if the item's id would derive another (rows imported before ids were read in
    /// one form whatever the connector derived theirs from Graph's form).
    /// </summary>
    /// <param name="mailbox">the calendar owner's Exchange address: attendees of another domain are external.</param>
    public static IEnumerable<EventRow> ToRows(ExchangeEvent item, string calendarId, string? ownerUserId, string mailbox,
        string? seriesUuid = null)
    {
        var uuid = seriesUuid ?? Uuid(calendarId, item.SeriesMasterId ?? item.ItemId);
        var isException = item.SeriesMasterId is not null;
        var eventId = isException ? $"{uuid}_{(item.OriginalStart ?? item.Start).ToUnixTimeSeconds()}" : $"{uuid}_0";
        var view = ToView(item, eventId, calendarId, ownerUserId, isException ? $"{uuid}_0" : null, mailbox);
        var endMs = item.RecurrenceRule is null ? item.End.ToUnixTimeMilliseconds() : SeriesEndMs(item);
        yield return new EventRow(eventId, item.ItemId, item.SeriesMasterId, item.ChangeKey, item.Start.ToUnixTimeMilliseconds(),
            endMs, JsonSerializer.Serialize(view, FeishuJsonContext.Default.CalendarEvent), FactsOf(view));

        foreach (var deleted in item.DeletedOccurrences)
        {
            var cancelledId = $"{uuid}_{deleted.ToUnixTimeSeconds()}";
            var duration = item.End - item.Start;
            var cancelled = view with
            {
                EventId = cancelledId, Status = "cancelled", IsException = true, RecurringEventId = $"{uuid}_0", Recurrence = null,
                StartTime = Time(deleted, item.IsAllDay, item.TimeZone), EndTime = Time(deleted + duration, item.IsAllDay, item.EndTimeZone ?? item.TimeZone),
            };
            yield return new EventRow(cancelledId, $"{item.ItemId}#deleted@{deleted.ToUnixTimeSeconds()}", item.ItemId, item.ChangeKey,
                deleted.ToUnixTimeMilliseconds(), (deleted + duration).ToUnixTimeMilliseconds(),
                JsonSerializer.Serialize(cancelled, FeishuJsonContext.Default.CalendarEvent), FactsOf(cancelled));
        }
    }

    private static StoredEventFacts FactsOf(CalendarEvent view) =>
        new(view.EventId, view.StartTime, view.EndTime, view.Recurrence, view.FreeBusyStatus, view.Status, view.SelfRsvpStatus);

    /// <summary>The uuid of a series or single from its event id ("{uuid}_0").</summary>
    public static string SeriesUuidOf(string eventId) => eventId[..eventId.LastIndexOf('_')];

    private static CalendarEvent ToView(ExchangeEvent e, string eventId, string calendarId, string? ownerUserId, string? recurringEventId,
        string mailbox)
    {
        var attendees = e.Attendees.Select(a => new CalendarAttendee("third_party", AttendeeId(a.Email), a.Email, a.Name, Rsvp(a.Response),
            a.Kind == AttendeeKind.Optional, e.Organizer is { } o && string.Equals(o.Email, a.Email, StringComparison.OrdinalIgnoreCase),
            IsExternal: !SameDomain(a.Email, mailbox))).ToList();
        return new CalendarEvent(
            eventId, calendarId, e.Subject, e.Body ?? "",
            Time(e.Start, e.IsAllDay, e.TimeZone), Time(e.End, e.IsAllDay, e.EndTimeZone ?? e.TimeZone),
            Vchat: e.OnlineMeetingUrl is { } url ? new EventVchat("third_party", url) : null,
            Visibility: Visibility(e.Sensitivity), AttendeeAbility: "none",
            FreeBusyStatus: e.FreeBusy == FreeBusy.Free ? "free" : "busy",
            Location: string.IsNullOrEmpty(e.Location) ? null : new EventLocation(e.Location),
            Color: -1,
            Reminders: e.ReminderMinutesBeforeStart is { } minutes ? [new EventReminder(minutes)] : [],
            Recurrence: e.RecurrenceRule,
            Status: e.IsCancelled ? "cancelled" : "confirmed",
            IsException: recurringEventId is not null,
            RecurringEventId: recurringEventId,
            CreateTime: (e.Created ?? e.LastModified ?? e.Start).ToUnixTimeSeconds().ToString(),
            EventOrganizer: e.Organizer is { } organizer ? new EventOrganizer(null, organizer.Name ?? organizer.Email) : null,
            SelfRsvpStatus: Rsvp(e.OwnResponse),
            Attendees: attendees);
    }

    /// <summary>Private and Confidential items are the platform's private events; Normal and Personal follow the calendar.</summary>
    private static string Visibility(EventSensitivity sensitivity) =>
        sensitivity is EventSensitivity.Private or EventSensitivity.Confidential ? "private" : "default";

    /// <summary>An attendee's id within its event, from the address alone, so EWS and Graph name the same attendee the same.</summary>
    private static string AttendeeId(string email)
    {
        const string Prefix = "third_party_";
        Span<char> id = stackalloc char[Prefix.Length + 16];
        Prefix.CopyTo(id);
        WriteHexDigest(email.ToLowerInvariant(), id[Prefix.Length..]);
        return new string(id);
    }

    private static bool SameDomain(string email, string mailbox) =>
        email.AsSpan(email.LastIndexOf('@') + 1).Equals(mailbox.AsSpan(mailbox.LastIndexOf('@') + 1), StringComparison.OrdinalIgnoreCase);

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

    /// <summary>
    /// The series' last moment, for range queries: the end of its last occurrence when it has a count or an end date (the
    /// connector expands it as Outlook does), otherwise open-ended.
    /// </summary>
    private static long SeriesEndMs(ExchangeEvent series) =>
        series.LastOccurrenceStart is { } lastStart
            ? Math.Max((lastStart + (series.End - series.Start)).ToUnixTimeMilliseconds(), series.End.ToUnixTimeMilliseconds())
            : Forever;

    /// <summary>The first 32 hex digits of the digest of calendar and item, grouped 8-4-4-4-12 as a uuid.</summary>
    private static string Uuid(string calendarId, string itemId)
    {
        Span<char> hex = stackalloc char[32];
        Span<char> text = stackalloc char[256];
        if (text.TryWrite($"{calendarId}\n{itemId}", out var written)) WriteHexDigest(text[..written], hex);
        else WriteHexDigest($"{calendarId}\n{itemId}", hex);
        Span<char> uuid = stackalloc char[36];
        hex[..8].CopyTo(uuid);
        uuid[8] = '-';
        hex[8..12].CopyTo(uuid[9..]);
        uuid[13] = '-';
        hex[12..16].CopyTo(uuid[14..]);
        uuid[18] = '-';
        hex[16..20].CopyTo(uuid[19..]);
        uuid[23] = '-';
        hex[20..32].CopyTo(uuid[24..]);
        return new string(uuid);
    }

    /// <summary>The first <paramref name="digits"/> lower-case hex digits of the SHA-256 of the text's UTF-8.</summary>
    private static string HexDigest(string text, int digits)
    {
        Span<char> hex = stackalloc char[digits];
        WriteHexDigest(text, hex);
        return new string(hex);
    }

    /// <summary>
    /// Fills <paramref name="hex"/> (at most 64 characters) with the first lower-case hex digits of the SHA-256 of the text's
    /// UTF-8, without the intermediate arrays and strings: three per event, on every imported event.
    /// </summary>
    private static void WriteHexDigest(ReadOnlySpan<char> text, Span<char> hex)
    {
        const int OnStack = 512;
        var maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        var utf8 = maxBytes <= OnStack ? stackalloc byte[OnStack] : new byte[maxBytes];
        var length = Encoding.UTF8.GetBytes(text, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        Span<char> all = stackalloc char[2 * SHA256.HashSizeInBytes];
        Convert.TryToHexStringLower(hash, all, out _);
        all[..hex.Length].CopyTo(hex);
    }
}
