using ExchangeBridge.Server.Calendars;
using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Tests.Calendars;

/// <summary>
/// A held master is found only by the tenant that read it, at the version and owner it was read with: any other answer
/// is a miss, which the free/busy read then reads in full (the tests against a changed, deleted or unbound series are in
/// <see cref="FreeBusyApiTests"/>).
/// </summary>
[Trait("Database", "Independent")]
public sealed class SeriesCacheTests
{
    [Fact]
    public void A_held_master_is_found_only_under_its_tenant_its_version_and_its_owner()
    {
        var cache = new SeriesCache();
        var master = Master(7, version: 3);

        cache.Hold("tenant-a", master);

        Assert.Same(master, cache.Find("tenant-a", 7, 3, "alisa"));
        Assert.NotNull(master.Placement);
        Assert.Null(cache.Find("tenant-b", 7, 3, "alisa"));
        Assert.Null(cache.Find("tenant-a", 7, 4, "alisa"));
        Assert.Null(cache.Find("tenant-a", 7, 3, "boris"));
        Assert.Null(cache.Find("tenant-a", 8, 3, "alisa"));
    }

    [Fact]
    public void It_holds_at_most_its_capacity_and_keeps_the_masters_asked_for_since_its_last_turn()
    {
        var cache = new SeriesCache(capacity: 4);
        var masters = Enumerable.Range(1, 12).Select(id => Master(id, version: 1)).ToList();
        cache.Hold("tenant-a", masters[0]);
        cache.Hold("tenant-a", masters[1]);
        cache.Hold("tenant-a", masters[2]);

        // Asked for again after the generations turned (at two held), so held on past the next turn, which drops 2.
        Assert.Same(masters[0], cache.Find("tenant-a", 1, 1, "alisa"));

        Assert.Null(cache.Find("tenant-a", 2, 1, "alisa"));
        Assert.Same(masters[0], cache.Find("tenant-a", 1, 1, "alisa"));
        Assert.Same(masters[2], cache.Find("tenant-a", 3, 1, "alisa"));

        foreach (var master in masters.Skip(3)) cache.Hold("tenant-a", master);
        Assert.All(masters.Take(9), m => Assert.Null(cache.Find("tenant-a", m.Id, 1, "alisa")));
        // The last held (a look-up in the older generation holds it again, which may turn them: the newest first).
        Assert.Same(masters[11], cache.Find("tenant-a", 12, 1, "alisa"));
        Assert.Same(masters[10], cache.Find("tenant-a", 11, 1, "alisa"));
    }

    private static StoredEventRow Master(long id, long version) => new()
    {
        Id = id, Version = version, OwnerId = "alisa", EventId = $"6f1c2b9e-0000-4000-8000-{id:000000000000}_0", ExchangeItemId = $"AAMkAG{id}",
        StartMs = 1_767_600_000_000, StartTimestamp = "1767600000", EndTimestamp = "1767601800", TimeZone = "Asia/Shanghai",
        Recurrence = "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=10",
    };
}
