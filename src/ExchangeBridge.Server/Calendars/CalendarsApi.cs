using System.Globalization;
using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Events;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ExchangeBridge.Server.Calendars;

/// <summary>
/// The calendar v4 read API, so imported calendars and events can be seen with the SDKs. As on the platform, the token
/// is an identity: a user token is the user, who sees their own calendars; a tenant token is the app acting as itself,
/// which sees the calendars it owns and those shared with it. Imported calendars are employees', and none is shared with
/// an app, so an app sees none of them (docs/security.md).
/// </summary>
public static class CalendarsApi
{
    private const int MaxPageSize = 1000;
    private const int DefaultAttendees = 10;
    private const int MaxAttendees = 100;

    public static IEndpointRouteBuilder MapCalendarsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/open-apis/calendar/v4/calendars").RequireAuthorization(Policies.ReadCalendar);
        group.MapGet("", ListCalendars).WithName("ListCalendars").WithSummary("Calendars of the caller");
        group.MapGet("/{calendar_id}", GetCalendar).WithName("GetCalendar").WithSummary("One calendar");
        group.MapGet("/{calendar_id}/events", ListEvents).WithName("ListEvents").WithSummary("Events of a calendar in a time range");
        group.MapGet("/{calendar_id}/events/{event_id}", GetEvent).WithName("GetEvent").WithSummary("One event");
        return app;
    }

    /// <summary>
    /// The caller's calendars: first in full, page by page (page_token), the last page giving a sync_token; then, with
    /// it, what changed since: calendars added or renamed as they are now, removed ones with is_deleted (docs/events.md).
    /// </summary>
    public static async Task<FeishuJsonResult<Envelope<CalendarListData>>> ListCalendars(HttpContext context, CalendarStore store,
        ChangeReads changes, CancellationToken ct)
    {
        var caller = Caller.Of(context);
        var (pageSize, position) = ListPaging(context, defaultSize: 500);
        if (OwnerOf(caller) is not { } owner)
            return CalendarList(new CalendarListData(false, "", "", []));
        var stream = ChangeLog.CalendarListStream(caller.TenantKey, owner);
        if (position.ChangesAfter is { } after)
        {
            await CheckSyncPointAsync(changes, stream, after, ct);
            var rows = await changes.CalendarChangesAsync(caller.TenantKey, owner, after, pageSize + 1, ct);
            var page = rows.Take(pageSize).ToList();
            var items = LatestPerKey(page, r => r.CalendarId, r => r.Summary is { } summary
                ? View(r.CalendarId, summary, isDeleted: false)
                : View(r.CalendarId, r.RemovedSummary ?? "", isDeleted: true));
            var reached = page.Count > 0 ? page[^1].Seq : after;
            return CalendarList(rows.Count > pageSize
                ? new CalendarListData(true, ListTokens.Changes(reached), "", items)
                : new CalendarListData(false, "", ListTokens.Sync(reached), items));
        }
        // A full listing's sync point is taken before its first page: a change made while it pages is seen again, never missed.
        var syncPoint = position.SyncPoint ?? await changes.CurrentSeqAsync(stream, ct);
        var calendars = await store.ListAsync(caller.TenantKey, owner, position.AfterId, pageSize + 1, ct);
        var hasMore = calendars.Count > pageSize;
        return CalendarList(new CalendarListData(hasMore, hasMore ? ListTokens.After(calendars[pageSize - 1].Id, syncPoint) : "",
            hasMore ? "" : ListTokens.Sync(syncPoint), calendars.Take(pageSize).Select(View).ToList()));
    }

    private static FeishuJsonResult<Envelope<CalendarListData>> CalendarList(CalendarListData data) =>
        FeishuJson.Result(Envelope.Success(data), FeishuJsonContext.Default.EnvelopeCalendarListData);

    public static async Task<FeishuJsonResult<Envelope<CalendarView>>> GetCalendar(string calendar_id, HttpContext context, CalendarStore store,
        CancellationToken ct)
    {
        var calendar = await FindAsync(context, store, calendar_id, ct);
        return FeishuJson.Result(Envelope.Success(View(calendar)), FeishuJsonContext.Default.EnvelopeCalendarView);
    }

    /// <summary>
    /// A calendar's events, in one of the platform's three ways: a time range (start_time and end_time, no sync token);
    /// everything, or everything ending after anchor_time, page by page with the last page giving a sync_token; or, with
    /// a sync_token, what changed since, removed events as status cancelled. A sync_token with a time range or an anchor
    /// is refused (190009), one this calendar never gave or no longer knows is expired (190008).
    /// </summary>
    public static async Task<FeishuJsonResult<Envelope<EventListData>>> ListEvents(string calendar_id, HttpContext context, CalendarStore store,
        ChangeReads changes, CancellationToken ct)
    {
        var calendar = await FindAsync(context, store, calendar_id, ct);
        var (pageSize, position) = ListPaging(context, defaultSize: 500);
        var start = Seconds(context, "start_time");
        var end = Seconds(context, "end_time");
        var anchor = Seconds(context, "anchor_time");
        if (position.ChangesAfter is { } after)
        {
            if (start is not null || end is not null || anchor is not null)
                throw new FeishuException(FeishuErrors.SyncTokenWithRestrictions, "start_time, end_time and anchor_time do not go with sync_token");
            await CheckSyncPointAsync(changes, ChangeLog.EventStream(calendar.CalendarId), after, ct);
            var rows = await changes.EventChangesAsync(calendar.CalendarId, after, pageSize + 1, ct);
            var page = rows.Take(pageSize).ToList();
            // An event created and removed again, whose removal is on a later page, is answered there, as cancelled.
            var items = LatestPerKey(page, r => r.EventId, r => r.Payload is { } now ? Event(now)
                : r.RemovedPayload is { } last ? Event(last) with { Status = CancelledStatus, Attendees = null }
                : null).OfType<CalendarEvent>().ToList();
            var reached = page.Count > 0 ? page[^1].Seq : after;
            return EventList(rows.Count > pageSize
                ? new EventListData(true, ListTokens.Changes(reached), "", items)
                : new EventListData(false, "", ListTokens.Sync(reached), items));
        }

        var ranged = start is not null || end is not null;
        if (ranged && anchor is not null) throw FeishuException.InvalidParameter("anchor_time does not go with start_time and end_time");
        var startMs = start is { } s ? s * 1000 : anchor is { } a ? a * 1000 : long.MinValue;
        var endMs = end is { } e ? e * 1000 : long.MaxValue;
        if (startMs > endMs) throw FeishuException.InvalidParameter("start_time must not be after end_time");
        // A range answers no sync_token: changes after it would be the whole calendar's, not the range's.
        var syncPoint = ranged ? 0 : position.SyncPoint ?? await changes.CurrentSeqAsync(ChangeLog.EventStream(calendar.CalendarId), ct);
        var events = await store.ListEventsAsync(calendar.Id, startMs, endMs, position.AfterId, pageSize + 1, ct);
        var hasMore = events.Count > pageSize;
        return EventList(new EventListData(hasMore, hasMore ? ListTokens.After(events[pageSize - 1].Id, syncPoint) : "",
            hasMore || ranged ? "" : ListTokens.Sync(syncPoint), events.Take(pageSize).Select(r => Event(r.Payload)).ToList()));
    }

    /// <summary>The status a removed event is answered with, as the platform answers a deleted event to a sync.</summary>
    private const string CancelledStatus = "cancelled";

    private static CalendarEvent Event(string payload) => JsonSerializer.Deserialize(payload, FeishuJsonContext.Default.CalendarEvent)!;

    private static FeishuJsonResult<Envelope<EventListData>> EventList(EventListData data) =>
        FeishuJson.Result(Envelope.Success(data), FeishuJsonContext.Default.EnvelopeEventListData);

    /// <summary>
    /// A sync point ahead of the stream was never given by it (another calendar's, a database restored from a backup); one
    /// before the log's retention cut would miss the changes deleted with it.
    /// </summary>
    private static async Task CheckSyncPointAsync(ChangeReads changes, string stream, long after, CancellationToken ct)
    {
        var (pruned, last) = await changes.ReadableSpanAsync(stream, ct);
        if (after > last)
            throw new FeishuException(FeishuErrors.SyncTokenExpired, "the sync_token is not one this list gave; list again without it");
        if (after < pruned)
            throw new FeishuException(FeishuErrors.SyncTokenExpired, "the sync_token is older than the changes kept; list again without it");
    }

    /// <summary>Each key once, where it last changed in the page, so that a client applying the page in order ends where the log does.</summary>
    private static List<TItem> LatestPerKey<TRow, TItem>(IReadOnlyList<TRow> rows, Func<TRow, string> key, Func<TRow, TItem> item)
    {
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++) last[key(rows[i])] = i;
        return rows.Where((row, i) => last[key(row)] == i).Select(item).ToList();
    }

    public static async Task<FeishuJsonResult<Envelope<EventData>>> GetEvent(string calendar_id, string event_id, HttpContext context,
        CalendarStore store, CancellationToken ct)
    {
        var (needAttendee, maxAttendees) = AttendeeLimit(context);
        var calendar = await FindAsync(context, store, calendar_id, ct);
        var payload = await store.FindEventAsync(calendar.Id, event_id, ct) ?? throw new FeishuException(FeishuErrors.CalendarEventNotFound);
        var stored = JsonSerializer.Deserialize(payload, FeishuJsonContext.Default.CalendarEvent)!;
        var answer = needAttendee && stored.Attendees is { } attendees
            ? stored with { Attendees = attendees.Take(maxAttendees).ToList(), HasMoreAttendee = attendees.Count > maxAttendees }
            : stored with { Attendees = null };
        return FeishuJson.Result(Envelope.Success(new EventData(answer)), FeishuJsonContext.Default.EnvelopeEventData);
    }

    /// <summary>need_attendee (attendees only when asked, as the platform answers) and max_attendee_num (default 10, at most 100).</summary>
    private static (bool NeedAttendee, int MaxAttendees) AttendeeLimit(HttpContext context)
    {
        var query = context.Request.Query;
        var need = false;
        if (query.TryGetValue("need_attendee", out var needText) && !bool.TryParse(needText, out need))
            throw FeishuException.InvalidParameter("need_attendee must be true or false");
        var max = DefaultAttendees;
        if (query.TryGetValue("max_attendee_num", out var maxText) &&
            (!int.TryParse(maxText, NumberStyles.None, CultureInfo.InvariantCulture, out max) || max is < 1 or > MaxAttendees))
            throw FeishuException.InvalidParameter($"max_attendee_num must be 1..{MaxAttendees}");
        return (need, max);
    }

    internal static async Task<CalendarRecord> FindAsync(HttpContext context, CalendarStore store, string calendarId, CancellationToken ct)
    {
        var caller = Caller.Of(context);
        if (calendarId.Length > 256) throw FeishuException.InvalidParameter("calendar_id is malformed");
        return (OwnerOf(caller) is { } owner ? await store.FindAsync(caller.TenantKey, owner, calendarId, ct) : null)
               ?? throw new FeishuException(FeishuErrors.CalendarNoAccess);
    }

    /// <summary>Whose imported calendars the caller reads: a user their own; an app (a tenant token) nobody's.</summary>
    private static string? OwnerOf(Caller caller) => caller.Kind == TokenKind.User ? caller.UserId : null;

    private static CalendarView View(CalendarRecord c) => View(c.CalendarId, c.Summary, isDeleted: false);

    private static CalendarView View(string calendarId, string summary, bool isDeleted) =>
        new(calendarId, summary, "", "private", -1, "exchange", "", isDeleted, true, "owner");

    /// <summary>page_size, and where a listing stands: page_token (a page of a listing) wins over sync_token (its start).</summary>
    private static (int PageSize, ListPosition Position) ListPaging(HttpContext context, int defaultSize)
    {
        var query = context.Request.Query;
        var size = PageSize(context, defaultSize, 1, MaxPageSize);
        if (query.TryGetValue("page_token", out var pageToken) && !string.IsNullOrEmpty(pageToken))
            return (size, ListTokens.ReadPageToken(pageToken.ToString()));
        if (query.TryGetValue("sync_token", out var syncToken) && !string.IsNullOrEmpty(syncToken))
            return (size, ListTokens.ReadSyncToken(syncToken.ToString()));
        return (size, ListPosition.Start);
    }

    /// <summary>page_size (within the endpoint's documented bounds) and the position page_token continues after.</summary>
    internal static (int PageSize, long AfterId) Paging(HttpContext context, int defaultSize, int minSize = 1, int maxSize = MaxPageSize)
    {
        var size = PageSize(context, defaultSize, minSize, maxSize);
        var afterId = context.Request.Query.TryGetValue("page_token", out var token) && !string.IsNullOrEmpty(token)
            ? ListTokens.ReadOffsetToken(token.ToString()) : 0;
        return (size, afterId);
    }

    private static int PageSize(HttpContext context, int defaultSize, int minSize, int maxSize)
    {
        var size = defaultSize;
        if (context.Request.Query.TryGetValue("page_size", out var sizeText) &&
            (!int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < minSize || size > maxSize))
            throw FeishuException.InvalidParameter($"page_size must be {minSize}..{maxSize}");
        return size;
    }

    internal static long? Seconds(HttpContext context, string name)
    {
        if (!context.Request.Query.TryGetValue(name, out var text)) return null;
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value < 253402300800
            ? value
            : throw FeishuException.InvalidParameter($"{name} must be a unix timestamp in seconds");
    }
}
