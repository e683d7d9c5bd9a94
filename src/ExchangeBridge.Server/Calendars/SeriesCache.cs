using ExchangeBridge.Server.Storage;
using Microsoft.Extensions.Caching.Memory;

namespace ExchangeBridge.Server.Calendars;

/// <summary>
/// The series masters free/busy has read, each placed once (its rule parsed, its zone found, its occurrences placed) and
/// held under its tenant, its row id and the row's version (migration 0015). A request reads only the id and version of
/// each master it touches and takes the held one when both match, so an update (a new version), a delete or an unbind (the
/// row is no longer read) is never answered from here; a mismatch is read in full and held again. Bounded in entries:
/// past <see cref="Capacity"/> the least recently used are dropped. A held master is shared by the requests that find
/// it and never changed after it is held.
/// </summary>
public sealed class SeriesCache : IDisposable
{
    /// <summary>
    /// Some 1.5 KB a master (its row's strings, the parsed rule, up to 52 starts of a year's weekly series): 100,000 masters,
    /// about 150 MB at most, hold every series of a million-event database touching any week.
    /// </summary>
    public const int Capacity = 100_000;

    private static readonly MemoryCacheEntryOptions OneEntry = new() { Size = 1 };

    private readonly MemoryCache _masters = new(new MemoryCacheOptions { SizeLimit = Capacity });

    /// <summary>A tenant's own row: a lookup never crosses tenants, whatever a row id names.</summary>
    private readonly record struct Key(string TenantKey, long RowId);

    /// <summary>The master held for this row at this version and owner, or null when it must be read (and then <see cref="Hold"/>).</summary>
    public StoredEventRow? Find(string tenantKey, long rowId, long version, string ownerId) =>
        _masters.TryGetValue(new Key(tenantKey, rowId), out StoredEventRow? held) && held!.Version == version &&
        string.Equals(held.OwnerId, ownerId, StringComparison.Ordinal)
            ? held
            : null;

    /// <summary>Places a master read in full (its item id, rule and payload times) and holds it under its id and version.</summary>
    public void Hold(string tenantKey, StoredEventRow master)
    {
        master.Placement = SeriesPlacement.Of(master.StartMs, master.StartDate, master.StartTimestamp, master.TimeZone, master.EndDate,
            master.EndTimestamp, master.Recurrence!)?.PlaceAll();
        _masters.Set(new Key(tenantKey, master.Id), master, OneEntry);
    }

    public void Dispose() => _masters.Dispose();
}
