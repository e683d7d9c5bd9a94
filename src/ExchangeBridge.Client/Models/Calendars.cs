namespace ExchangeBridge.Client;

/// <summary>A calendar as the calendar v4 API lists it; imported Exchange calendars have <c>type: exchange</c>.</summary>
public sealed record Calendar(
    string CalendarId, string Summary, string? Description, string? Permissions, int Color, string? Type, string? SummaryAlias,
    bool IsDeleted, bool IsThirdParty, string? Role);

/// <summary>An event's start or end: a <see cref="Date"/> for all-day events, else a unix <see cref="Timestamp"/> in seconds.</summary>
public sealed record EventTime(string? Date, string? Timestamp, string? Timezone);

public sealed record EventLocation(string? Name);

public sealed record EventAttendee(string? Type, string? ThirdPartyEmail, string? DisplayName, string? RsvpStatus, bool IsOptional,
    bool IsOrganizer, bool IsExternal);

/// <summary>An event as the calendar v4 API answers it (the fields ExchangeBridge fills).</summary>
public sealed record CalendarEvent(
    string EventId, string? OrganizerCalendarId, string? Summary, string? Description, EventTime? StartTime, EventTime? EndTime,
    string? Visibility, string? FreeBusyStatus, EventLocation? Location, string? Recurrence, string? Status, bool IsException,
    string? RecurringEventId, string? CreateTime, IReadOnlyList<EventAttendee>? Attendees);

internal sealed record CalendarPage(bool HasMore, string? PageToken, IReadOnlyList<Calendar>? CalendarList);

/// <summary>
/// One sync round of a calendar's events: what changed since the sync token it started from (everything, from none), a
/// removed event with <c>Status</c> <c>cancelled</c>; and the token to start the next round from.
/// </summary>
public sealed record CalendarEventChanges(IReadOnlyList<CalendarEvent> Events, string SyncToken);

internal sealed record EventPage(bool HasMore, string? PageToken, IReadOnlyList<CalendarEvent>? Items, string? SyncToken = null);
