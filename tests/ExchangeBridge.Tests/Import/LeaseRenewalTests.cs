using Dapper;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// A running job keeps its lease whatever it is doing: the lease was renewed only after a page was written, so a page
/// slower than the lease (Exchange slow to answer, a database busy with two instances' workers) let it run out under a
/// live worker, and another claimed the job while the first still ran it.
/// </summary>
public sealed class LeaseRenewalTests() : ImportWorldTests(SimulatedConnector.Ews, new Dictionary<string, string?>
{
    ["ExchangeBridge:Import:LeaseSeconds"] = "12", // renewed every 4 s
    ["ExchangeBridge:Import:RequestTimeoutSeconds"] = "11", // the hanging request outlasts the renewals the test waits for
})
{
    [Fact]
    public async Task A_job_whose_exchange_request_hangs_past_its_lease_keeps_the_lease_while_its_worker_runs()
    {
        Store.AddMailbox(Mailbox);
        Store.InjectFault(Mailbox, SimFault.Hang);
        await World.BindAsync();
        await World.WaitForDiagnosticsAsync(d => d["jobs"]![0]!["lease_owner"] is not null);

        // Time passes far beyond the lease the claim took; only a renewal made since can cover the clock's now.
        World.Server.Clock.Advance(TimeSpan.FromMinutes(10));
        var database = World.Server.Services.GetRequiredService<IDatabase>();
        await Eventually.TrueAsync(async () =>
        {
            await using var c = await database.OpenAsync();
            var leaseUntil = await c.ExecuteScalarAsync<long?>("SELECT lease_expires_at FROM sync_jobs WHERE kind = @import",
                new { import = JobKinds.Import });
            return leaseUntil > World.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        }, "the lease renewed while the request hangs", TimeSpan.FromSeconds(10));
        Assert.Equal(1, (await World.DiagnosticsAsync())["jobs"]![0]!["attempts"]!.GetValue<int>());
    }
}
