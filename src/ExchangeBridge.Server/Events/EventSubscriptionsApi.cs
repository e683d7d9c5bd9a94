using ExchangeBridge.Core.Errors;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Events;

/// <summary>
/// The platform's subscription endpoints, with a user token (the user subscribes the calling app): to their calendar
/// list (calendar.calendar.changed_v4) and to one of their calendars' events (calendar.calendar.event.changed_v4). The
/// events then go to the request URL the app registered (operator API: <see cref="EventsAdminApi"/>).
/// </summary>
public static class EventSubscriptionsApi
{
    public static IEndpointRouteBuilder MapEventSubscriptionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/open-apis/calendar/v4/calendars").RequireAuthorization(Policies.SubscribeCalendar);
        group.MapPost("/subscription", SubscribeCalendars).WithName("SubscribeCalendars")
            .WithSummary("Subscribe the app to the user's calendar list changes");
        group.MapPost("/unsubscription", UnsubscribeCalendars).WithName("UnsubscribeCalendars")
            .WithSummary("Unsubscribe the app from the user's calendar list changes");
        group.MapPost("/{calendar_id}/events/subscription", SubscribeEvents).WithName("SubscribeCalendarEvents")
            .WithSummary("Subscribe the app to a calendar's event changes");
        group.MapPost("/{calendar_id}/events/unsubscription", UnsubscribeEvents).WithName("UnsubscribeCalendarEvents")
            .WithSummary("Unsubscribe the app from a calendar's event changes");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<EmptyData>>> SubscribeCalendars(HttpContext context, EventSettingsStore store,
        TimeProvider clock, CancellationToken ct)
    {
        var caller = Caller.Of(context);
        await store.SubscribeAsync(caller.AppId, caller.TenantKey, caller.UserId!, SubscriptionKinds.Calendars, "", Now(clock), ct);
        return Done();
    }

    public static async Task<FeishuJsonResult<Envelope<EmptyData>>> UnsubscribeCalendars(HttpContext context, EventSettingsStore store,
        CancellationToken ct)
    {
        var caller = Caller.Of(context);
        await store.UnsubscribeAsync(caller.AppId, caller.TenantKey, caller.UserId!, SubscriptionKinds.Calendars, "", ct);
        return Done();
    }

    public static async Task<FeishuJsonResult<Envelope<EmptyData>>> SubscribeEvents(string calendar_id, HttpContext context,
        CalendarStore calendars, EventSettingsStore store, TimeProvider clock, CancellationToken ct)
    {
        var caller = await OwnerOfAsync(context, calendars, calendar_id, ct);
        await store.SubscribeAsync(caller.AppId, caller.TenantKey, caller.UserId!, SubscriptionKinds.Events, calendar_id, Now(clock), ct);
        return Done();
    }

    public static async Task<FeishuJsonResult<Envelope<EmptyData>>> UnsubscribeEvents(string calendar_id, HttpContext context,
        CalendarStore calendars, EventSettingsStore store, CancellationToken ct)
    {
        var caller = await OwnerOfAsync(context, calendars, calendar_id, ct);
        await store.UnsubscribeAsync(caller.AppId, caller.TenantKey, caller.UserId!, SubscriptionKinds.Events, calendar_id, ct);
        return Done();
    }

    /// <summary>The caller must read the calendar: an imported calendar, its owner only (as every calendar read).</summary>
    private static async Task<Caller> OwnerOfAsync(HttpContext context, CalendarStore calendars, string calendarId, CancellationToken ct)
    {
        var caller = Caller.Of(context);
        if (calendarId.Length > 256 || await calendars.FindAsync(caller.TenantKey, caller.UserId!, calendarId, ct) is null)
            throw new FeishuException(FeishuErrors.CalendarNoAccess);
        return caller;
    }

    private static long Now(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();

    private static FeishuJsonResult<Envelope<EmptyData>> Done() =>
        FeishuJson.Result(Envelope.Success(new EmptyData()), FeishuJsonContext.Default.EnvelopeEmptyData);
}
