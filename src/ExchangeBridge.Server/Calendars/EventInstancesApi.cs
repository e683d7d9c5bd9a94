using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Calendars;

public sealed record InstanceViewData(IReadOnlyList<CalendarEvent> Items);

public sealed record InstancesData(bool HasMore, string PageToken, IReadOnlyList<CalendarEvent> Items);

/// <summary>
/// A calendar's series expanded into instances (<see cref="EventInstances"/>): the instance view of a range, and the
/// instances of one series page by page. Read as the other calendar reads are: a user their own calendars
/// (<see cref="CalendarsApi"/>), so the owner sees every detail, private events included.
/// </summary>
public static class EventInstancesApi
{
    /// <summary>instance_view's documented limits: a range of at most 40 days holding at most 1000 instances.</summary>
    private static readonly long MaxInstanceViewRangeSeconds = (long)TimeSpan.FromDays(40).TotalSeconds;
    private const int MaxInstanceViewItems = 1000;

    // instances' page_size: default 50, 10..500 (the SDK's page_size; bounds as the platform's list endpoints take them).
    private const int DefaultInstancesPage = 50;
    private const int MinInstancesPage = 10;
    private const int MaxInstancesPage = 500;

    public static IEndpointRouteBuilder MapEventInstancesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/open-apis/calendar/v4/calendars/{calendar_id}/events").RequireAuthorization(Policies.ReadCalendar);
        // A literal segment outranks {event_id}, so instance_view is never read as an event id.
        group.MapGet("/instance_view", InstanceView).WithName("InstanceView").WithSummary("A range's events, series expanded into instances");
        group.MapGet("/{event_id}/instances", Instances).WithName("ListInstances").WithSummary("The instances of one series in a range");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<InstanceViewData>>> InstanceView(string calendar_id, HttpContext context,
        CalendarStore calendars, EventRangeReads reads, CancellationToken ct)
    {
        var (startSeconds, endSeconds) = Range(context);
        _ = UserIdTypes.Parse(context.Request.Query["user_id_type"].FirstOrDefault()); // refused when not one of the three kinds; the answer names no user
        if (endSeconds - startSeconds > MaxInstanceViewRangeSeconds) throw new FeishuException(FeishuErrors.InstanceViewRangeTooLong);
        var calendar = await CalendarsApi.FindAsync(context, calendars, calendar_id, ct);
        var (startMs, endMs) = (startSeconds * 1000, endSeconds * 1000);
        var instances = EventInstances.Expand(await reads.CalendarRangeAsync(calendar.Id, startMs, endMs, ct), startMs, endMs);
        if (instances.Count > MaxInstanceViewItems) throw new FeishuException(FeishuErrors.InstanceViewTooManyInstances);
        return FeishuJson.Result(Envelope.Success(new InstanceViewData(Views(instances))), FeishuJsonContext.Default.EnvelopeInstanceViewData);
    }

    public static async Task<FeishuJsonResult<Envelope<InstancesData>>> Instances(string calendar_id, string event_id, HttpContext context,
        CalendarStore calendars, EventRangeReads reads, CancellationToken ct)
    {
        var (startSeconds, endSeconds) = Range(context);
        var (pageSize, skip) = CalendarsApi.Paging(context, DefaultInstancesPage, MinInstancesPage, MaxInstancesPage);
        var calendar = await CalendarsApi.FindAsync(context, calendars, calendar_id, ct);
        var series = await reads.SeriesAsync(calendar.Id, event_id, ct);
        if (series.Count == 0) throw new FeishuException(FeishuErrors.CalendarEventNotFound);
        var instances = EventInstances.Expand(series, startSeconds * 1000, endSeconds * 1000);
        var page = instances.Skip((int)Math.Min(skip, int.MaxValue)).Take(pageSize + 1).ToList();
        var hasMore = page.Count > pageSize;
        return FeishuJson.Result(Envelope.Success(new InstancesData(hasMore, hasMore ? ListTokens.Offset(skip + pageSize) : "",
            Views(page.Take(pageSize).ToList()))), FeishuJsonContext.Default.EnvelopeInstancesData);
    }

    /// <summary>start_time and end_time (both required, seconds), end after start.</summary>
    private static (long Start, long End) Range(HttpContext context)
    {
        var start = CalendarsApi.Seconds(context, "start_time") ?? throw FeishuException.InvalidParameter("start_time is required");
        var end = CalendarsApi.Seconds(context, "end_time") ?? throw FeishuException.InvalidParameter("end_time is required");
        if (end <= start) throw FeishuException.InvalidParameter("end_time must be after start_time");
        return (start, end);
    }

    /// <summary>Each instance in the Open API's shape; a series' stored view is read once for all its occurrences.</summary>
    private static List<CalendarEvent> Views(IReadOnlyList<EventInstance> instances)
    {
        var stored = new Dictionary<long, CalendarEvent>();
        var views = new List<CalendarEvent>(instances.Count);
        foreach (var instance in instances)
        {
            if (!stored.TryGetValue(instance.Row.Id, out var view))
                stored[instance.Row.Id] = view = JsonSerializer.Deserialize(instance.Row.Payload, FeishuJsonContext.Default.CalendarEvent)!;
            views.Add(instance.View(view));
        }
        return views;
    }
}
