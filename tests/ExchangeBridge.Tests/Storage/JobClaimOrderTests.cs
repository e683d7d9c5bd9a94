using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// Which due job a claim takes (<see cref="JobStore.TryClaimAsync"/>): of the tenant served longest ago; then the job with
/// the fewest turns; then the most overdue. The claims are made here, at times the test names.
/// </summary>
public sealed class JobClaimOrderTests : JobStoreTests
{
    [Fact]
    public async Task A_job_that_ended_its_turn_goes_after_a_job_bound_since_with_fewer_turns_and_turns_restart_with_each_sync()
    {
        Store.AddMailbox("first@contoso.com");
        await World.BindForNewEmployeeAsync("first@contoso.com", "first");
        var first = await ClaimAsync("instance-a", Now);
        Assert.NotNull(first);
        await Jobs.EndTurnAsync(first, Now, default); // due again now, one turn taken

        World.Server.Clock.Advance(TimeSpan.FromSeconds(1));
        Store.AddMailbox("second@contoso.com");
        await World.BindForNewEmployeeAsync("second@contoso.com", "second");
        World.Server.Clock.Advance(TimeSpan.FromSeconds(1));

        // The first job is the more overdue, but has had a turn: the second goes first.
        var second = await ClaimAsync("instance-a", Now);
        Assert.NotNull(second);
        Assert.NotEqual(first.Id, second.Id);
        var again = await ClaimAsync("instance-a", Now);
        Assert.Equal(first.Id, again?.Id);

        // A sync that went through clears the turns: run again together, the first (more overdue) goes first.
        await Jobs.SyncedAsync(again!, Now, Now, default);
        await Jobs.EndTurnAsync(second, Now, default);
        Assert.Equal(first.Id, (await ClaimAsync("instance-a", Now + 1))?.Id);
    }

    [Fact]
    public async Task A_tenant_not_served_yet_goes_before_one_served_already()
    {
        Store.AddMailbox("served@contoso.com");
        await World.BindForNewEmployeeAsync("served@contoso.com", "served");
        Store.AddMailbox("next@contoso.com");
        await World.BindForNewEmployeeAsync("next@contoso.com", "next");
        var served = await ClaimAsync("instance-a", Now);
        Assert.NotNull(served); // the tenant has now been served once

        World.Server.Clock.Advance(TimeSpan.FromSeconds(1));
        await World.BindInOtherTenantAsync(OtherTenant, "svc@fabrikam.com", "Fabrikam-Pa55", ["someone@fabrikam.com"]);

        // Both tenants have a job due, this one's the more overdue; the other tenant has not been served yet.
        var claimed = await ClaimAsync("instance-a", Now);
        Assert.Equal(OtherTenant, claimed?.TenantKey);
    }

    private const string OtherTenant = "fabrikam";
}
