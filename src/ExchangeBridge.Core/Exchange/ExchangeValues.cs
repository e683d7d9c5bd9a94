namespace ExchangeBridge.Core.Exchange;

/// <summary>Exchange's enumerations and (Windows) zone ids, shared by EWS and Graph, translated into the import model's vocabulary.</summary>
public static class ExchangeValues
{
    /// <summary>
    /// The canonical IANA id for an EWS (Windows) time-zone id. ICU's CLDR table does the work; ids that already are IANA pass
    /// through; unknown ones (e.g. "Customized Time Zone", whose rules come beside it: <see cref="CustomTimeZone"/>) fall
    /// back to UTC, because Start/End are absolute instants anyway.
    /// </summary>
    public static string ToIanaTimeZone(string? windowsId) => TryToIanaTimeZone(windowsId, out var iana) ? iana : "UTC";

    /// <summary>The canonical IANA id for a Windows or IANA zone id, if it names a zone this system knows.</summary>
    public static bool TryToIanaTimeZone(string? windowsId, out string iana)
    {
        iana = "UTC";
        if (string.IsNullOrWhiteSpace(windowsId)) return false;
        // ICU's lookup showed as 4% of an import's CPU: a mailbox uses a handful of zones, so remember them (bounded,
        // since the ids come from the server).
        if (IanaByWindowsId.TryGetValue(windowsId, out var known))
        {
            iana = known ?? "UTC";
            return known is not null;
        }
        var found = TimeZoneInfo.TryConvertWindowsIdToIanaId(windowsId, out var converted) ? converted
            : TimeZoneInfo.TryConvertIanaIdToWindowsId(windowsId, out _) ? windowsId : null;
        if (found is not null) found = CanonicalIana.GetValueOrDefault(found, found);
        if (IanaByWindowsId.Count < 1024) IanaByWindowsId.TryAdd(windowsId, found);
        iana = found ?? "UTC";
        return found is not null;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> IanaByWindowsId = new(StringComparer.Ordinal);

    /// <summary>
    /// CLDR keeps the zone ids it first published (its "golden" zone of a Windows id may be an IANA link, e.g.
    /// Asia/Calcutta); the platform wants IANA's canonical names. These are the links CLDR's windowsZones names, with the
    /// zone each links to in IANA's backward file (a test checks every Windows id this system knows maps to a canonical zone).
    /// </summary>
    private static readonly Dictionary<string, string> CanonicalIana = new(StringComparer.Ordinal)
    {
        ["America/Buenos_Aires"] = "America/Argentina/Buenos_Aires",
        ["America/Godthab"] = "America/Nuuk",
        ["America/Indianapolis"] = "America/Indiana/Indianapolis",
        ["Asia/Calcutta"] = "Asia/Kolkata",
        ["Asia/Katmandu"] = "Asia/Kathmandu",
        ["Asia/Rangoon"] = "Asia/Yangon",
        ["Asia/Saigon"] = "Asia/Ho_Chi_Minh",
        ["Atlantic/Faeroe"] = "Atlantic/Faroe",
        ["Europe/Kiev"] = "Europe/Kyiv",
        ["Pacific/Enderbury"] = "Pacific/Kanton",
        ["Pacific/Ponape"] = "Pacific/Pohnpei",
        ["Pacific/Truk"] = "Pacific/Chuuk",
    };

    /// <summary>ResponseType (Unknown, Organizer, Tentative, Accept, Decline, NoResponseReceived).</summary>
    public static AttendeeResponse ToAttendeeResponse(string? responseType) => responseType switch
    {
        "Accept" or "Organizer" => AttendeeResponse.Accept,
        "Tentative" => AttendeeResponse.Tentative,
        "Decline" => AttendeeResponse.Decline,
        _ => AttendeeResponse.NeedsAction,
    };

    /// <summary>Sensitivity (Normal, Personal, Private, Confidential); anything else reads as Normal, Exchange's default.</summary>
    public static EventSensitivity ToSensitivity(string? sensitivity) => sensitivity switch
    {
        "Personal" => EventSensitivity.Personal,
        "Private" => EventSensitivity.Private,
        "Confidential" => EventSensitivity.Confidential,
        _ => EventSensitivity.Normal,
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
