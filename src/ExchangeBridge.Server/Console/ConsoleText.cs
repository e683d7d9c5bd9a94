using System.Globalization;

namespace ExchangeBridge.Server.Console;

/// <summary>How the console writes times and a binding's sync in words; the pages and the live feed share it.</summary>
public static class ConsoleText
{
    /// <summary>A time in UTC, to the second; "never" for none.</summary>
    public static string Time(long? ms) =>
        ms is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "never";

    /// <summary>When the next attempt runs: "—" when the binding has no queued import (an unbound one being cleaned up).</summary>
    public static string NextAttempt(ConsoleBindingRow row) => row.NextAttemptAt is null ? "—" : Time(row.NextAttemptAt);

    /// <summary>
    /// Why the binding needs attention, in the import's own words (<see cref="Import.SyncFaults"/> wrote them: the kind,
    /// what happened, what to do): its err reason, or while it retries after a fault, the last error and how many tries.
    /// Empty when all is well.
    /// </summary>
    public static string Why(ConsoleBindingRow row) =>
        row.ErrorReason is { Length: > 0 } reason ? reason
        : row.LastError is { Length: > 0 } error ? $"Retrying ({row.Attempts} attempt(s) since the last success): {error}"
        : row.IsLate ? $"Late: last synced {Time(row.LastSyncedAt)}"
        : "";

    /// <summary>The status as shown: the stored one, with "late" beside it when the sync is late.</summary>
    public static string Status(ConsoleBindingRow row) => row.IsLate ? $"{row.Status} (late)" : row.Status;
}
