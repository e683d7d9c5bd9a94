namespace ExchangeBridge.Server.Calendars;

// The calendar v4 Open API's shapes, as the platform documents them.

public sealed record CalendarView(
    string CalendarId, string Summary, string Description, string Permissions, int Color, string Type,
    string SummaryAlias, bool IsDeleted, bool IsThirdParty, string Role);

public sealed record CalendarListData(bool HasMore, string PageToken, string SyncToken, IReadOnlyList<CalendarView> CalendarList);

public sealed record TimeInfo(string? Date = null, string? Timestamp = null, string? Timezone = null);

public sealed record EventLocation(string Name);

public sealed record EventReminder(int Minutes);

public sealed record EventOrganizer(string? UserId, string DisplayName);

public sealed record EventAttendee(
    string Type, string ThirdPartyEmail, string? DisplayName, string RsvpStatus, bool IsOptional, bool IsOrganizer,
    bool IsExternal);

public sealed record CalendarEvent(
    string EventId,
    string OrganizerCalendarId,
    string Summary,
    string Description,
    TimeInfo StartTime,
    TimeInfo EndTime,
    string Visibility,
    string AttendeeAbility,
    string FreeBusyStatus,
    EventLocation? Location,
    int Color,
    IReadOnlyList<EventReminder> Reminders,
    string? Recurrence,
    string Status,
    bool IsException,
    string? RecurringEventId,
    string CreateTime,
    EventOrganizer? EventOrganizer,
    IReadOnlyList<EventAttendee> Attendees);

public sealed record EventListData(bool HasMore, string PageToken, string SyncToken, IReadOnlyList<CalendarEvent> Items);

public sealed record EventData(CalendarEvent Event);
