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

/// <summary>An attendee; <paramref name="AttendeeId"/> is unique within its event (the platform's attendee_id).</summary>
public sealed record EventAttendee(
    string Type, string AttendeeId, string ThirdPartyEmail, string? DisplayName, string RsvpStatus, bool IsOptional, bool IsOrganizer,
    bool IsExternal);

/// <summary>The event's video meeting: a link from Exchange is a third-party one (vc_type third_party).</summary>
public sealed record EventVchat(string VcType, string? MeetingUrl = null, string? IconType = null, string? Description = null);

public sealed record CalendarEvent(
    string EventId,
    string OrganizerCalendarId,
    string Summary,
    string Description,
    TimeInfo StartTime,
    TimeInfo EndTime,
    EventVchat? Vchat,
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
    /// <summary>The calendar owner's own answer to the event (needs_action, accept, tentative, decline).</summary>
    string? SelfRsvpStatus,
    IReadOnlyList<EventAttendee>? Attendees,
    bool? HasMoreAttendee = null);

public sealed record EventListData(bool HasMore, string PageToken, string SyncToken, IReadOnlyList<CalendarEvent> Items);

public sealed record EventData(CalendarEvent Event);
