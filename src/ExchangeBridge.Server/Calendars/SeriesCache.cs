using System.Collections.Concurrent;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Calendars;

/// <summary>
/// The series masters free/busy has read, each placed once (its rule parsed, its zone found, its occurrences placed) and
/// held under its tenant, its row id and the row's version (migration 0015). A request reads only the id and version of
/// each master it touches and takes the held one when both match, so an update (a new version), a delete or an unbind (the
/// row is no longer read) is never answered from here; a mismatch is read in full and held again. A held master is
/// shared by the requests that find it and never changed after it is held.
/// </summary>
/// <remarks>
/// Some 2,500 look-ups a request for 100 users, so a look-up is one dictionary probe by row id: no boxed key, clock read
/// or access stamp (MemoryCache's look-up was ~3 % of a warm request's time). Bounded in two generations instead of by
/// recency: masters held or found since the last turn are in the recent one; when it reaches half of the capacity it
/// becomes the older one and the older one is dropped, and a master found in the older one is held in the recent one
/// again. So at most <see cref="Capacity"/> masters are held, and those asked for since the last turn outlive it.
/// </remarks>
public sealed class SeriesCache(int capacity = SeriesCache.Capacity)
{
    /// <summary>
    /// Some 1.5 KB a master (its row's strings, the parsed rule, up to 52 starts of a year's weekly series): 100,000 masters,
    /// about 150 MB at most, hold every series of a million-event database touching any week.
    /// </summary>
    public const int Capacity = 100_000;

    /// <summary>A master as held, with the tenant it was read for: a look-up never crosses tenants, whatever a row id names.</summary>
    private sealed record Held(string TenantKey, StoredEventRow Master);

    private readonly Lock _turn = new();
    private volatile ConcurrentDictionary<long, Held> _recent = new();
    private volatile ConcurrentDictionary<long, Held> _older = new();
    private int _recentCount;

    /// <summary>The master held for this row at this version and owner, or null when it must be read (and then <see cref="Hold"/>).</summary>
    public StoredEventRow? Find(string tenantKey, long rowId, long version, string ownerId)
    {
        if (!_recent.TryGetValue(rowId, out var held))
        {
            if (!_older.TryGetValue(rowId, out held)) return null;
            if (Matches(held, tenantKey, version, ownerId)) Keep(rowId, held);
        }
        return Matches(held, tenantKey, version, ownerId) ? held.Master : null;
    }

    /// <summary>Places a master read in full (its item id, rule and payload times) and holds it under its id and version.</summary>
    public void Hold(string tenantKey, StoredEventRow master)
    {
        master.Placement = SeriesPlacement.Of(master.StartMs, master.StartDate, master.StartTimestamp, master.TimeZone, master.EndDate,
            master.EndTimestamp, master.Recurrence!)?.PlaceAll();
        Keep(master.Id, new Held(tenantKey, master));
    }

    private static bool Matches(Held held, string tenantKey, long version, string ownerId) =>
        held.Master.Version == version && string.Equals(held.TenantKey, tenantKey, StringComparison.Ordinal) &&
        string.Equals(held.Master.OwnerId, ownerId, StringComparison.Ordinal);

    /// <summary>Holds in the recent generation, turning the generations when it is full (counted without taking its locks).</summary>
    private void Keep(long rowId, Held held)
    {
        var recent = _recent;
        if (!recent.TryAdd(rowId, held))
        {
            recent[rowId] = held;
            return;
        }
        if (Interlocked.Increment(ref _recentCount) < capacity / 2) return;
        lock (_turn)
        {
            // Another request may have turned them already.
            if (!ReferenceEquals(recent, _recent)) return;
            _older = recent;
            _recent = new ConcurrentDictionary<long, Held>();
            _recentCount = 0;
        }
    }
}
