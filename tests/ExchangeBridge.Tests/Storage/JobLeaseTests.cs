using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Storage;

/// <summary>
/// A lease belongs to one claim, not to the instance that made it: an instance's workers share its name, and a job whose
/// lease ran out under a worker still running, claimed again by another worker of the same instance, was run by both
/// (both renewals matched; on PostgreSQL the two then deadlocked on the same calendar). The claims are made here, at
/// times the test names.
/// </summary>
public sealed class JobLeaseTests : JobStoreTests
{
    [Fact]
    public async Task Workers_racing_for_one_due_job_lease_it_once()
    {
        Store.AddMailbox("employee0@contoso.com");
        await World.BindForNewEmployeeAsync("employee0@contoso.com", "employee0");
        var now = Now;

        // All read the same candidate; on PostgreSQL their takes then queue on its row, and each that waited must see it
        // taken. Each round comes after the last round's lease ran out, so the job is due again.
        for (var round = 0; round < 8; round++, now += LeaseMs + 1)
        {
            var at = now;
            var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
                Task.Run(() => ClaimAsync($"instance-{i % 2}", at))));
            Assert.Single(claims, claim => claim is not null);
        }
    }

    [PostgresFact]
    public async Task Idle_workers_of_two_instances_each_lease_a_different_job_at_their_first_look()
    {
        const int JobCount = 8;
        for (var i = 0; i < JobCount; i++)
        {
            Store.AddMailbox($"employee{i}@contoso.com");
            await World.BindForNewEmployeeAsync($"employee{i}@contoso.com", $"employee{i}");
        }
        var now = Now;

        // Writers run side by side on PostgreSQL: a worker passes over the jobs others are taking, instead of all queueing
        // on the first job's row and finding it taken (three looks each, then idle while work waits).
        var claims = await Task.WhenAll(Enumerable.Range(0, JobCount).Select(i =>
            Task.Run(() => ClaimAsync($"instance-{i % 2}", now))));

        Assert.All(claims, Assert.NotNull);
        Assert.Equal(JobCount, claims.Select(claim => claim!.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_claim_whose_lease_ran_out_can_neither_renew_nor_release_the_job_once_the_same_instance_claimed_it_again()
    {
        Store.AddMailbox("employee0@contoso.com");
        await World.BindForNewEmployeeAsync("employee0@contoso.com", "employee0");
        var now = Now;

        var first = await ClaimAsync("instance-a", now);
        Assert.NotNull(first);
        var later = now + LeaseMs + 1;
        var second = await ClaimAsync("instance-a", later);
        Assert.Equal(first.Id, second?.Id);

        Assert.False(await Jobs.RenewAsync(first, later, LeaseMs, default));
        Assert.False(await Jobs.IsCancelledAsync(first, default)); // taken over, not unbound
        await Jobs.SyncedAsync(first, later + 300_000, later, default); // the first run ending changes nothing of the second's
        Assert.Null((await Jobs.FindSyncAsync(first.BindingKey, default)).LastSyncedAt); // nor says the binding was synced
        Assert.Null(await ClaimAsync("instance-b", later + 1));
        Assert.True(await Jobs.RenewAsync(second!, later + 1, LeaseMs, default));
    }

    [Fact]
    public async Task A_run_whose_binding_was_unbound_loses_its_lease_and_is_told_apart_from_one_taken_over()
    {
        await World.BindAsync();
        var now = Now;
        var running = await ClaimAsync("instance-a", now);
        Assert.NotNull(running);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await World.UnbindAsync()).StatusCode);

        Assert.False(await Jobs.RenewAsync(running, now + 1, LeaseMs, default));
        Assert.True(await Jobs.IsCancelledAsync(running, default)); // what the worker logs as an unbind, not a lost lease

        // The run ending at that moment (its turn, its sync, or a failure to retry) leaves the job cancelled: only the
        // unbind's job is claimed.
        await Jobs.EndTurnAsync(running, now + 1, default);
        await Jobs.SyncedAsync(running, now + 1, now + 1, default);
        await Jobs.RetryLaterAsync(running, now + 1, "ErrorServerBusy", unexpected: false, now + 1, default);
        Assert.True(await Jobs.IsCancelledAsync(running, default));
        Assert.Equal(JobKinds.Unbind, (await ClaimAsync("instance-b", now + 2))?.Kind);
        Assert.Null(await ClaimAsync("instance-b", now + 2));
    }
}
