using System.Globalization;
using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Calendars;

public sealed record EventSearchData(IReadOnlyList<CalendarEvent> Items, string PageToken);

/// <summary>What a search asks: text, a time range, and attendees (users by id; rooms and chats).</summary>
public sealed record EventSearch(string Query, long StartMs, long EndMs, IReadOnlyList<string> UserIds, IReadOnlyList<string> RoomIds,
    IReadOnlyList<string> ChatIds);

/// <summary>
/// Searches a calendar's events (<c>POST …/events/search</c>): the text in the summary, description or location, any case;
/// the filter's time range; and attendees. Imported attendees are addresses, so a user in <c>user_ids</c> matches by the
/// address the tenant knows them by; no imported event has a meeting room or chat of the platform's, so asking for
/// <c>room_ids</c> or <c>chat_ids</c> finds nothing. Stored events are searched as stored (a series once, not each
/// occurrence); cancelled ones are left out. The owner's calendar only, as every calendar read.
/// </summary>
public static class EventSearchApi
{
    // page_size: default 20, 10..100 (assumed as for the attendee list: the search page's bounds were not found).
    private const int DefaultPage = 20;
    private const int MinPage = 10;
    private const int MaxPage = 100;

    public static IEndpointRouteBuilder MapEventSearchApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/open-apis/calendar/v4/calendars/{calendar_id}/events/search", Search)
            .RequireAuthorization(Policies.ReadCalendar).WithName("SearchEvents").WithSummary("A calendar's events matching text, time and attendees");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<EventSearchData>>> Search(string calendar_id, HttpContext context, CalendarStore store,
        EventRangeReads reads, CancellationToken ct)
    {
        var idType = UserIdTypes.Parse(context.Request.Query["user_id_type"].FirstOrDefault());
        var (pageSize, skip) = CalendarsApi.Paging(context, DefaultPage, MinPage, MaxPage);
        var search = await JsonBody.ReadObjectAsync(context.Request, FeishuErrors.InvalidParameters, ReadSearch, ct);
        var calendar = await CalendarsApi.FindAsync(context, store, calendar_id, ct);
        var caller = Caller.Of(context);
        var addresses = search.UserIds.Count == 0 ? null
            : (await reads.ResolveUsersAsync(caller.TenantKey, caller.AppId, idType, search.UserIds, ct))
            .Select(u => u.Email).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);

        // With a time range, a series is found when one of its occurrences falls in it (not merely its span).
        var rows = search.StartMs == long.MinValue && search.EndMs == long.MaxValue
            ? await reads.CalendarRowsAsync(calendar.Id, search.StartMs, search.EndMs, ct)
            : EventInstances.Touching(await reads.CalendarRangeAsync(calendar.Id, search.StartMs, search.EndMs, ct), search.StartMs, search.EndMs)
                .Select(t => t.Row).OrderBy(r => r.StartMs).ThenBy(r => r.Id).ToList();
        var matches = new List<CalendarEvent>();
        foreach (var row in rows)
        {
            var view = JsonSerializer.Deserialize(row.Payload, FeishuJsonContext.Default.CalendarEvent)!;
            if (view.Status != "cancelled" && Matches(view, search, addresses)) matches.Add(view);
        }
        var page = matches.Skip((int)Math.Min(skip, int.MaxValue)).Take(pageSize).ToList();
        var more = skip + pageSize < matches.Count;
        return FeishuJson.Result(Envelope.Success(new EventSearchData(page, more ? ListTokens.Offset(skip + pageSize) : "")),
            FeishuJsonContext.Default.EnvelopeEventSearchData);
    }

    private static bool Matches(CalendarEvent view, EventSearch search, HashSet<string>? addresses) =>
        (search.Query.Length == 0 || Contains(view.Summary, search.Query) || Contains(view.Description, search.Query) ||
         Contains(view.Location?.Name, search.Query))
        && (addresses is null || (view.Attendees ?? []).Any(a => addresses.Contains(a.ThirdPartyEmail)))
        && search.RoomIds.Count == 0 && search.ChatIds.Count == 0;

    private static bool Contains(string? text, string query) => text?.Contains(query, StringComparison.OrdinalIgnoreCase) == true;

    private static EventSearch ReadSearch(JsonElement body)
    {
        var invalid = FeishuErrors.InvalidParameters;
        var query = JsonBody.OptionalString(body, "query", invalid) ?? throw FeishuException.InvalidParameter("query is required");
        if (query.Length > 50) throw FeishuException.InvalidParameter("query is at most 50 characters");
        if (!body.TryGetProperty("filter", out var filter) || filter.ValueKind == JsonValueKind.Null)
            return new EventSearch(query, long.MinValue, long.MaxValue, [], [], []);
        if (filter.ValueKind != JsonValueKind.Object) throw FeishuException.InvalidParameter("filter must be an object");
        var start = TimeOf(filter, "start_time") ?? long.MinValue;
        var end = TimeOf(filter, "end_time") ?? long.MaxValue;
        if (start > end) throw FeishuException.InvalidParameter("filter.start_time must not be after filter.end_time");
        return new EventSearch(query, start, end, JsonBody.OptionalStringArray(filter, "user_ids", invalid),
            JsonBody.OptionalStringArray(filter, "room_ids", invalid), JsonBody.OptionalStringArray(filter, "chat_ids", invalid));
    }

    /// <summary>A filter time in the platform's time shape: a timestamp in seconds, or a date (its midnight in the given zone, else UTC).</summary>
    private static long? TimeOf(JsonElement filter, string name)
    {
        if (!filter.TryGetProperty(name, out var time) || time.ValueKind == JsonValueKind.Null) return null;
        if (time.ValueKind != JsonValueKind.Object) throw FeishuException.InvalidParameter($"filter.{name} must be an object");
        var invalid = FeishuErrors.InvalidParameters;
        if (JsonBody.OptionalString(time, "timestamp", invalid) is { Length: > 0 } timestamp)
            return long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < 253402300800
                ? seconds * 1000
                : throw FeishuException.InvalidParameter($"filter.{name}.timestamp must be a unix timestamp in seconds");
        if (JsonBody.OptionalString(time, "date", invalid) is { Length: > 0 } date)
        {
            if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                throw FeishuException.InvalidParameter($"filter.{name}.date must be yyyy-MM-dd");
            var zone = JsonBody.OptionalString(time, "timezone", invalid) is { Length: > 0 } zoneName
                ? TimeZoneInfo.TryFindSystemTimeZoneById(zoneName, out var found) ? found
                : throw FeishuException.InvalidParameter($"filter.{name}.timezone is not a known time zone")
                : TimeZoneInfo.Utc;
            return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(day.ToDateTime(TimeOnly.MinValue), zone), TimeSpan.Zero).ToUnixTimeMilliseconds();
        }
        throw FeishuException.InvalidParameter($"filter.{name} needs a timestamp or a date");
    }
}
