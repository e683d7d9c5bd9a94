using System.Globalization;
using System.Text;
using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
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

    public static async Task<FeishuJsonResult<Envelope<CalendarListData>>> ListCalendars(HttpContext context, CalendarStore store, CancellationToken ct)
    {
        var caller = Caller.Of(context);
        var (pageSize, afterId) = Paging(context, defaultSize: 500);
        var rows = OwnerOf(caller) is { } owner ? await store.ListAsync(caller.TenantKey, owner, afterId, pageSize + 1, ct) : [];
        var page = rows.Take(pageSize).Select(View).ToList();
        var hasMore = rows.Count > pageSize;
        return FeishuJson.Result(Envelope.Success(new CalendarListData(hasMore, hasMore ? Token(rows[pageSize - 1].Id) : "", "", page)),
            FeishuJsonContext.Default.EnvelopeCalendarListData);
    }

    public static async Task<FeishuJsonResult<Envelope<CalendarView>>> GetCalendar(string calendar_id, HttpContext context, CalendarStore store,
        CancellationToken ct)
    {
        var calendar = await FindAsync(context, store, calendar_id, ct);
        return FeishuJson.Result(Envelope.Success(View(calendar)), FeishuJsonContext.Default.EnvelopeCalendarView);
    }

    public static async Task<FeishuJsonResult<Envelope<EventListData>>> ListEvents(string calendar_id, HttpContext context, CalendarStore store,
        CancellationToken ct)
    {
        var calendar = await FindAsync(context, store, calendar_id, ct);
        var (pageSize, afterId) = Paging(context, defaultSize: 500);
        var startMs = Seconds(context, "start_time") is { } s ? s * 1000 : long.MinValue;
        var endMs = Seconds(context, "end_time") is { } e ? e * 1000 : long.MaxValue;
        if (startMs > endMs) throw FeishuException.InvalidParameter("start_time must not be after end_time");
        var rows = await store.ListEventsAsync(calendar.Id, startMs, endMs, afterId, pageSize + 1, ct);
        var items = rows.Take(pageSize).Select(r => JsonSerializer.Deserialize(r.Payload, FeishuJsonContext.Default.CalendarEvent)!).ToList();
        var hasMore = rows.Count > pageSize;
        return FeishuJson.Result(Envelope.Success(new EventListData(hasMore, hasMore ? Token(rows[pageSize - 1].Id) : "", "", items)),
            FeishuJsonContext.Default.EnvelopeEventListData);
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
               ?? throw new FeishuException(FeishuErrors.CalendarNotFound);
    }

    /// <summary>Whose imported calendars the caller reads: a user their own; an app (a tenant token) nobody's.</summary>
    private static string? OwnerOf(Caller caller) => caller.Kind == TokenKind.User ? caller.UserId : null;

    private static CalendarView View(CalendarRecord c) =>
        new(c.CalendarId, c.Summary, "", "private", -1, "exchange", "", false, true, "owner");

    /// <summary>page_size (within the endpoint's documented bounds) and the position page_token continues after.</summary>
    internal static (int PageSize, long AfterId) Paging(HttpContext context, int defaultSize, int minSize = 1, int maxSize = MaxPageSize)
    {
        var query = context.Request.Query;
        var size = defaultSize;
        if (query.TryGetValue("page_size", out var sizeText) &&
            (!int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < minSize || size > maxSize))
            throw FeishuException.InvalidParameter($"page_size must be {minSize}..{maxSize}");
        long afterId = 0;
        if (query.TryGetValue("page_token", out var token) && !string.IsNullOrEmpty(token))
        {
            try
            {
                var text = Encoding.UTF8.GetString(Convert.FromBase64String(token.ToString()));
                if (!text.StartsWith("after:", StringComparison.Ordinal) || !long.TryParse(text[6..], NumberStyles.None, CultureInfo.InvariantCulture, out afterId))
                    throw new FormatException();
            }
            catch (FormatException)
            {
                throw FeishuException.InvalidParameter("page_token is invalid");
            }
        }
        return (size, afterId);
    }

    internal static string Token(long lastId) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"after:{lastId}"));

    internal static long? Seconds(HttpContext context, string name)
    {
        if (!context.Request.Query.TryGetValue(name, out var text)) return null;
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value < 253402300800
            ? value
            : throw FeishuException.InvalidParameter($"{name} must be a unix timestamp in seconds");
    }
}
