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
        using var cache = new SeriesCache();
        var master = new StoredEventRow
        {
            Id = 7, Version = 3, OwnerId = "alisa", EventId = "6f1c2b9e-0000-4000-8000-000000000007_0", ExchangeItemId = "AAMkAG7",
            StartMs = 1_767_600_000_000, StartTimestamp = "1767600000", EndTimestamp = "1767601800", TimeZone = "Asia/Shanghai",
            Recurrence = "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO;COUNT=10",
        };

        cache.Hold("tenant-a", master);

        Assert.Same(master, cache.Find("tenant-a", 7, 3, "alisa"));
        Assert.NotNull(master.Placement);
        Assert.Null(cache.Find("tenant-b", 7, 3, "alisa"));
        Assert.Null(cache.Find("tenant-a", 7, 4, "alisa"));
        Assert.Null(cache.Find("tenant-a", 7, 3, "boris"));
        Assert.Null(cache.Find("tenant-a", 8, 3, "alisa"));
    }
}
