namespace ExchangeBridge.Core.Identity;

/// <summary>The scopes our endpoints ask for, each list read as "any one of", as the platform's pages do.</summary>
public static class Scopes
{
    public const string Calendar = "calendar:calendar";
    public const string CalendarReadonly = "calendar:calendar:readonly";
    public const string FreeBusyRead = "calendar:calendar.free_busy:read";
    public const string ExchangeBindingsCreate = "calendar:exchange.bindings:create";
    public const string ExchangeBindingsRead = "calendar:exchange.bindings:read";
    public const string ExchangeBindingsDelete = "calendar:exchange.bindings:delete";

    public static readonly string[] CreateBinding = [Calendar, CalendarReadonly, ExchangeBindingsCreate];
    public static readonly string[] ReadBinding = [Calendar, CalendarReadonly, ExchangeBindingsRead];
    public static readonly string[] DeleteBinding = [Calendar, ExchangeBindingsDelete];
    public static readonly string[] ReadCalendar = [Calendar, CalendarReadonly];
    /// <summary>The free/busy pages' list: any one of the two calendar scopes or the free/busy one.</summary>
    public static readonly string[] ReadFreeBusy = [Calendar, FreeBusyRead, CalendarReadonly];

    /// <summary>What a new app is granted unless the operator says otherwise.</summary>
    public static readonly string[] Default =
        [Calendar, CalendarReadonly, ExchangeBindingsCreate, ExchangeBindingsRead, ExchangeBindingsDelete];
}
