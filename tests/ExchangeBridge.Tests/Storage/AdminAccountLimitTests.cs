using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Import;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// The claim follows what Exchange admits of an admin account (<see cref="JobStore.AdminAccountRefusedAsync"/>): a
/// ceiling counted over every instance, halved on a refusal, grown back by one job per interval. The jobs are claimed
/// here, as two instances' workers would, so that every step is at a time the test names.
/// </summary>
public sealed class AdminAccountLimitTests() : JobStoreTests(new Dictionary<string, string?>
{
    ["ExchangeBridge:Import:MaxJobsPerEwsAdminAccount"] = "3",
    ["ExchangeBridge:Import:AdminAccountGrowMilliseconds"] = "1000",
})
{
    [Fact]
    public async Task Jobs_of_an_admin_account_are_claimed_up_to_its_limit_over_every_instance_halved_on_a_refusal_and_grown_back_one_by_one()
    {
        for (var i = 0; i < 6; i++)
        {
            var mailbox = $"employee{i}@contoso.com";
            Store.AddMailbox(mailbox);
            await World.BindForNewEmployeeAsync(mailbox, $"employee{i}");
        }
        var now = Now;

        // The ceiling (3) holds over both instances.
        var running = new List<JobRecord> { (await ClaimAsync("instance-a", now))!, (await ClaimAsync("instance-b", now))!, (await ClaimAsync("instance-a", now))! };
        Assert.DoesNotContain(null, running);
        Assert.Null(await ClaimAsync("instance-b", now));

        // Exchange refuses the account: half of the three running, at least one. Refusals while more run than that are
        // the same congestion and change nothing.
        var tenant = World.Server.Bootstrap.TenantKey;
        Assert.Equal(1, await Jobs.AdminAccountRefusedAsync(tenant, ImportWorld.Admin, now, Limits, default));
        Assert.Null(await Jobs.AdminAccountRefusedAsync(tenant, ImportWorld.Admin, now + 500, Limits, default));
        await Jobs.CompleteAsync(running[0], now, default);
        await Jobs.CompleteAsync(running[1], now, default);
        Assert.Null(await ClaimAsync("instance-b", now + 500)); // one runs, one is the limit

        // One more job per interval since the refusal, never past the ceiling.
        Assert.NotNull(await ClaimAsync("instance-b", now + 1000));
        Assert.Null(await ClaimAsync("instance-a", now + 1000));
        Assert.NotNull(await ClaimAsync("instance-a", now + 10_000));
        Assert.Null(await ClaimAsync("instance-b", now + 10_000)); // three run: the ceiling, though a job is still queued

        // Refused with no more running than the limit: the limit itself is too high, and halves again.
        Assert.Equal(1, await Jobs.AdminAccountRefusedAsync(tenant, ImportWorld.Admin, now + 10_000, Limits, default));
    }
}
