namespace ExchangeBridge.Client;

/// <summary>
/// Whose free/busy to read, and over which range (<c>POST /open-apis/calendar/v4/freebusy/list</c>, or <c>/batch</c> for
/// several users). <see cref="IncludeExternalCalendar"/> takes in the bound Exchange calendars (the platform's default);
/// <see cref="OnlyBusy"/> leaves out what is shown as free or was declined; <see cref="NeedRsvpStatus"/> adds the user's
/// own answer to each stretch.
/// </summary>
public sealed record FreeBusyQuery(DateTimeOffset TimeMin, DateTimeOffset TimeMax)
{
    public bool IncludeExternalCalendar { get; init; } = true;
    public bool OnlyBusy { get; init; } = true;
    public bool NeedRsvpStatus { get; init; }
}

/// <summary>A busy stretch; <see cref="RsvpStatus"/> when asked for (accept, tentative, decline, needs_action).</summary>
public sealed record FreeBusySlot(DateTimeOffset StartTime, DateTimeOffset EndTime, string? RsvpStatus);

/// <summary>One user's busy stretches in a batch answer, under the id they were asked by.</summary>
public sealed record UserFreeBusy(string UserId, IReadOnlyList<FreeBusySlot> FreebusyItems);

internal sealed record FreeBusyListRequest(DateTimeOffset TimeMin, DateTimeOffset TimeMax, string UserId, bool IncludeExternalCalendar,
    bool OnlyBusy, bool NeedRsvpStatus);

internal sealed record FreeBusyBatchRequest(DateTimeOffset TimeMin, DateTimeOffset TimeMax, IReadOnlyList<string> UserIds,
    bool IncludeExternalCalendar, bool OnlyBusy, bool NeedRsvpStatus);

internal sealed record FreeBusyListData(IReadOnlyList<FreeBusySlot>? FreebusyList);

internal sealed record FreeBusyBatchData(IReadOnlyList<UserFreeBusy>? FreebusyLists);

internal sealed record InstanceViewData(IReadOnlyList<CalendarEvent>? Items);
