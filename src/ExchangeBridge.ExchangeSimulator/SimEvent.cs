using ExchangeBridge.Core.Exchange;

namespace ExchangeBridge.ExchangeSimulator;

public sealed record SimPerson(string Name, string Email);

/// <summary>An attendee; <paramref name="ResponseType"/> uses EWS's words (Unknown, Organizer, Tentative, Accept, Decline, NoResponseReceived).</summary>
public sealed record SimAttendee(string Name, string Email, string ResponseType = "Unknown");

/// <summary>
/// A calendar item as a test writes it. Times are instants; <see cref="TimeZoneId"/> is a Windows zone id, as Exchange
/// stores it. A <see cref="Recurrence"/> makes the item a recurring master whose first occurrence is Start/End.
/// </summary>
public sealed record SimEvent(string Subject, DateTimeOffset Start, DateTimeOffset End)
{
    public string TimeZoneId { get; init; } = "UTC";
    public bool IsAllDay { get; init; }
    public string? Location { get; init; }
    public string? Body { get; init; }
    public SimPerson? Organizer { get; init; }
    public IReadOnlyList<SimAttendee> RequiredAttendees { get; init; } = [];
    public IReadOnlyList<SimAttendee> OptionalAttendees { get; init; } = [];
    public IReadOnlyList<SimAttendee> Resources { get; init; } = [];
    /// <summary>LegacyFreeBusyStatus: Free, Tentative, Busy, OOF, WorkingElsewhere, NoData.</summary>
    public string FreeBusy { get; init; } = "Busy";
    /// <summary>Null: no reminder set (ReminderIsSet false).</summary>
    public int? ReminderMinutesBeforeStart { get; init; } = 15;
    public bool IsCancelled { get; init; }
    public EwsRecurrence? Recurrence { get; init; }
    /// <summary>The iCalendar UID; the store assigns one when null.</summary>
    public string? Uid { get; init; }
}
