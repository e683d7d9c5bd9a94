using System.Globalization;
using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Calendars;

public sealed record AttendeeListData(IReadOnlyList<EventAttendee> Items, bool HasMore, string PageToken);

/// <summary>
/// An event's attendees page by page, as the import stored them (Exchange's attendees are third-party addresses). An
/// occurrence of a series has its series' attendees. Read by the calendar's owner only, as every calendar read is.
/// </summary>
public static class EventAttendeesApi
{
    // page_size: default 20, 10..100, the bounds larksuite/cli's +list-attendees clamps to for this endpoint.
    private const int DefaultPage = 20;
    private const int MinPage = 10;
    private const int MaxPage = 100;

    public static IEndpointRouteBuilder MapEventAttendeesApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/open-apis/calendar/v4/calendars/{calendar_id}/events/{event_id}/attendees", List)
            .RequireAuthorization(Policies.ReadCalendar).WithName("ListEventAttendees").WithSummary("An event's attendees, paged");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<AttendeeListData>>> List(string calendar_id, string event_id, HttpContext context,
        CalendarStore store, EventRangeReads reads, CancellationToken ct)
    {
        var query = context.Request.Query;
        _ = UserIdTypes.Parse(query["user_id_type"].FirstOrDefault()); // refused when not one of the three kinds; the answer names no user
        if (query.TryGetValue("need_resource_customization", out var customization) && !bool.TryParse(customization, out _))
            throw FeishuException.InvalidParameter("need_resource_customization must be true or false");
        var (pageSize, skip) = CalendarsApi.Paging(context, DefaultPage, MinPage, MaxPage);
        var calendar = await CalendarsApi.FindAsync(context, store, calendar_id, ct);
        var payload = await store.FindEventAsync(calendar.Id, event_id, ct) ?? await SeriesOfOccurrenceAsync(reads, calendar.Id, event_id, ct)
                      ?? throw new FeishuException(FeishuErrors.CalendarEventNotFound);
        var attendees = JsonSerializer.Deserialize(payload, FeishuJsonContext.Default.CalendarEvent)!.Attendees ?? [];
        var page = attendees.Skip((int)Math.Min(skip, int.MaxValue)).Take(pageSize).ToList();
        var hasMore = skip + pageSize < attendees.Count;
        return FeishuJson.Result(Envelope.Success(new AttendeeListData(page, hasMore, hasMore ? ListTokens.Offset(skip + pageSize) : "")),
            FeishuJsonContext.Default.EnvelopeAttendeeListData);
    }

    /// <summary>
    /// The stored view of the series an occurrence id ("{uuid}_{start in seconds}", not stored) belongs to, when its series
    /// ("{uuid}_0") has an occurrence starting then; null otherwise.
    /// </summary>
    private static async Task<string?> SeriesOfOccurrenceAsync(EventRangeReads reads, long calendarKey, string eventId, CancellationToken ct)
    {
        var at = eventId.LastIndexOf('_');
        if (at <= 0 || !long.TryParse(eventId.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds == 0)
            return null;
        var series = await reads.SeriesAsync(calendarKey, $"{EventPayloads.SeriesUuidOf(eventId)}_0", ct);
        return EventInstances.Expand(series, seconds * 1000, seconds * 1000 + 1)
            .FirstOrDefault(i => i.IsOccurrence && i.EventId == eventId)?.Row.Payload;
    }
}
