namespace ExchangeBridge.Core.Exchange;

/// <summary>EWS enumerations and zone ids translated into the import model's vocabulary.</summary>
public static class EwsValues
{
    /// <summary>
    /// The IANA id for an EWS (Windows) time-zone id. ICU's CLDR table does the work; ids that already are IANA pass
    /// through; unknown ones (e.g. "Customized Time Zone") fall back to UTC, because Start/End are absolute instants anyway.
    /// </summary>
    public static string ToIanaTimeZone(string? windowsId)
    {
        if (string.IsNullOrWhiteSpace(windowsId)) return "UTC";
        // ICU's lookup showed as 4% of an import's CPU: a mailbox uses a handful of zones, so remember them (bounded,
        // since the ids come from the server).
        if (IanaByWindowsId.TryGetValue(windowsId, out var known)) return known;
        var iana = TimeZoneInfo.TryConvertWindowsIdToIanaId(windowsId, out var converted) ? converted
            : TimeZoneInfo.TryConvertIanaIdToWindowsId(windowsId, out _) ? windowsId : "UTC";
        if (IanaByWindowsId.Count < 1024) IanaByWindowsId.TryAdd(windowsId, iana);
        return iana;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> IanaByWindowsId = new(StringComparer.Ordinal);

    /// <summary>ResponseType (Unknown, Organizer, Tentative, Accept, Decline, NoResponseReceived).</summary>
    public static AttendeeResponse ToAttendeeResponse(string? responseType) => responseType switch
    {
        "Accept" or "Organizer" => AttendeeResponse.Accept,
        "Tentative" => AttendeeResponse.Tentative,
        "Decline" => AttendeeResponse.Decline,
        _ => AttendeeResponse.NeedsAction,
    };

    /// <summary>LegacyFreeBusyStatus (Free, Tentative, Busy, OOF, WorkingElsewhere, NoData); NoData reads as busy, Exchange's default.</summary>
    public static FreeBusy ToFreeBusy(string? legacyFreeBusyStatus) => legacyFreeBusyStatus switch
    {
        "Free" => FreeBusy.Free,
        "Tentative" => FreeBusy.Tentative,
        "OOF" => FreeBusy.OutOfOffice,
        "WorkingElsewhere" => FreeBusy.WorkingElsewhere,
        _ => FreeBusy.Busy,
    };
}
