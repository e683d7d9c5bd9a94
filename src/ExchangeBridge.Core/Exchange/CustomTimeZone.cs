namespace ExchangeBridge.Core.Exchange;

/// <summary>A yearly clock change of a custom zone: the <paramref name="Occurrence"/>th (1..4, or -1 for the last) weekday of a month, at a local time.</summary>
public sealed record ZoneTransition(int Month, int Occurrence, DayOfWeek Day, TimeSpan LocalTime);

/// <summary>
/// A time zone given by its rules rather than a known id: EWS's TimeZoneDefinition of a "Customized Time Zone" (desktop
/// Outlook's legacy custom zones). Offsets are from UTC (Berlin's standard offset is +1h; EWS writes its Bias as -PT1H).
/// </summary>
public sealed record CustomTimeZone(string? Name, TimeSpan StandardOffset, TimeSpan? DaylightOffset = null,
    ZoneTransition? ToDaylight = null, ZoneTransition? ToStandard = null)
{
    /// <summary>
    /// The canonical IANA zone whose clock agrees with these rules over the years around <paramref name="around"/>: at every
    /// clock change of these rules (just before and at it) and in the middle of every month. Among several that agree
    /// (most rules are shared by many cities), one whose city the definition's name mentions, then a zone a Windows id
    /// maps to, then the first by id. Never UTC unless the rules are UTC's; null when no zone agrees.
    /// </summary>
    public string? ToIana(DateTimeOffset around)
    {
        var key = (this, around.Year);
        if (IanaByRules.TryGetValue(key, out var known)) return known;
        var rules = ToTimeZoneInfo();
        var probes = Probes(rules, around.Year).ToList();
        var matching = TimeZoneInfo.GetSystemTimeZones()
            .Where(zone => ExchangeValues.TryToIanaTimeZone(zone.Id, out var canonical) && canonical == zone.Id)
            .Where(zone => probes.All(at => zone.GetUtcOffset(at) == rules.GetUtcOffset(at)))
            .Select(zone => zone.Id)
            .ToList();
        var best = matching
            .OrderByDescending(id => Name is { } name && name.Contains(City(id), StringComparison.OrdinalIgnoreCase))
            .ThenByDescending(IsWindowsDefault)
            .ThenBy(id => id, StringComparer.Ordinal)
            .FirstOrDefault();
        if (IanaByRules.Count < 256) IanaByRules.TryAdd(key, best);
        return best;
    }

    /// <summary>These rules as a zone of their own, for when no known zone agrees.</summary>
    public TimeZoneInfo ToTimeZoneInfo()
    {
        if (DaylightOffset is not { } daylight || ToDaylight is null || ToStandard is null)
            return TimeZoneInfo.CreateCustomTimeZone(Name ?? "Custom", StandardOffset, Name ?? "Custom", Name ?? "Custom");
        var rule = TimeZoneInfo.AdjustmentRule.CreateAdjustmentRule(DateTime.MinValue.Date, DateTime.MaxValue.Date,
            daylight - StandardOffset, Floating(ToDaylight), Floating(ToStandard));
        return TimeZoneInfo.CreateCustomTimeZone(Name ?? "Custom", StandardOffset, Name ?? "Custom", Name ?? "Custom", Name ?? "Custom", [rule]);
    }

    private static TimeZoneInfo.TransitionTime Floating(ZoneTransition t) =>
        TimeZoneInfo.TransitionTime.CreateFloatingDateRule(DateTime.MinValue.Add(t.LocalTime), t.Month, t.Occurrence is >= 1 and <= 4 ? t.Occurrence : 5, t.Day);

    /// <summary>Instants where two zones that differ would show it: each clock change of the rules (a minute before and at it) and mid-month.</summary>
    private static IEnumerable<DateTimeOffset> Probes(TimeZoneInfo rules, int year)
    {
        var start = new DateTimeOffset(year - 1, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var previous = rules.GetUtcOffset(start);
        for (var at = start; at.Year <= year + 1; at = at.AddHours(1))
        {
            var offset = rules.GetUtcOffset(at);
            if (offset != previous) yield return at.AddMinutes(-1);
            if (offset != previous || (at.Day == 15 && at.Hour == 12)) yield return at;
            previous = offset;
        }
    }

    private static string City(string ianaId) => ianaId[(ianaId.LastIndexOf('/') + 1)..].Replace('_', ' ');

    private static bool IsWindowsDefault(string ianaId) =>
        TimeZoneInfo.TryConvertIanaIdToWindowsId(ianaId, out var windowsId) && ExchangeValues.ToIanaTimeZone(windowsId) == ianaId;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(CustomTimeZone, int), string?> IanaByRules = new();
}
