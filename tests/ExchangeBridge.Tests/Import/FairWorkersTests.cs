using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>One tenant whose Exchange hangs holds at most its share of the workers; the others' bindings keep moving.</summary>
public sealed class FairWorkersTests() : ImportWorldTests(SimulatedConnector.Ews, new Dictionary<string, string?>
{
    ["ExchangeBridge:Import:Workers"] = "2",
    ["ExchangeBridge:Import:MaxJobsPerTenant"] = "1",
    // Longer than the test waits for the healthy tenant: only the cap can free a worker for it.
    ["ExchangeBridge:Import:RequestTimeoutSeconds"] = "55",
})
{
    private const string OtherTenant = "fabrikam";
    private const string OtherAdmin = "svc@fabrikam.com";
    private const string OtherPassword = "Fabrikam-Pa55";

    [Fact]
    public async Task A_healthy_tenants_binding_reaches_done_promptly_while_another_tenants_exchange_hangs()
    {
        // The other tenant binds two mailboxes whose Exchange never answers: once one of them is in flight, it holds a worker.
        string[] hung = ["hung0@fabrikam.com", "hung1@fabrikam.com"];
        foreach (var mailbox in hung) Simulator.Store.InjectFault(mailbox, SimFault.Hang);
        var hanging = await World.BindInOtherTenantAsync(OtherTenant, OtherAdmin, OtherPassword, hung);
        await Eventually.TrueAsync(async () => await LeasedAsync(hanging) >= 1, "one of the hanging jobs leased", TimeSpan.FromSeconds(30));

        Simulator.Store.Put(Simulator.Store.DefaultFolder(ImportWorld.Mailbox),
            new SimCalendarItem { ItemId = "a", Subject = "A", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1) });
        await World.BindAsync();
        await Eventually.TrueAsync(async () => (await World.DiagnosticsAsync())["status"]!.GetValue<string>() == "done", "the binding done", TimeSpan.FromSeconds(20));

        Assert.Equal(1, await LeasedAsync(hanging)); // the cap: one of the other tenant's jobs runs, the other waits its turn
    }

    private async Task<int> LeasedAsync(IEnumerable<string> bindingIds)
    {
        var leased = 0;
        foreach (var id in bindingIds)
        {
            var diagnostics = await TestServer.ReadAsync(await World.Server.SendAsync(HttpMethod.Get,
                $"/admin/v1/tenants/{OtherTenant}/exchange_bindings?exchange_binding_id={Uri.EscapeDataString(id)}", null,
                World.Server.Bootstrap.OperatorKey));
            if (diagnostics["data"]!["jobs"]!.AsArray().Any(j => j!["lease_owner"] is not null)) leased++;
        }
        return leased;
    }
}
