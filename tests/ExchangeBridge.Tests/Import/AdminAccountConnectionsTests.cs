using ExchangeBridge.Core.Exchange;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// An admin account's connections are counted, not its jobs: a large mailbox's GetItem batches go several at once, each
/// holding one of the account's connections on this instance, and Exchange never sees more of them open than the limit;
/// while they are all out with calls waiting, the claim leases no further job of the account.
/// </summary>
public sealed class AdminAccountConnectionsTests
{
    private const int Connections = 3;

    private static readonly ThrottlingPolicy ExchangeOfThreeConnections = ThrottlingPolicy.Unlimited with
    {
        EwsMaxConcurrency = Connections,
        // Exchange takes a while over each request, so that the batches a job sends together are open together.
        EwsServiceTimes = new[] { "GetFolder", "FindFolder", "FindItem", "GetItem", "SyncFolderItems" }
            .ToDictionary(o => o, _ => TimeSpan.FromMilliseconds(20)),
    };

    [Fact]
    public async Task A_large_mailbox_is_fetched_several_batches_at_once_never_past_its_admin_accounts_connections_and_imports_as_one_batch_at_a_time_does()
    {
        await using var simulator = await SimulatorHost.StartAsync();
        var folder = simulator.Store.DefaultFolder(ImportWorld.Mailbox);
        simulator.Store.Generate(folder, 600, ImportWorld.Monday); // pages of 256 listed items: six GetItem batches each

        simulator.Store.EnforceThrottling(ExchangeOfThreeConnections);
        await using var wide = await ImportWorld.StartAsync(simulator, SimulatedConnector.Ews, Settings(batchesInFlight: 4));
        await wide.BindAsync();
        Assert.Equal("done", await wide.WaitForStatusAsync("done", "err"));
        // Four batches asked for at once, three connections: three open together, never a fourth for Exchange to refuse.
        Assert.Equal((0L, Connections), (simulator.Store.ThrottlingCounters.RefusedForConcurrency, simulator.Store.ThrottlingCounters.PeakConcurrency));

        simulator.Store.EnforceThrottling(ExchangeOfThreeConnections);
        await using var sequential = await ImportWorld.StartAsync(simulator, SimulatedConnector.Ews, Settings(batchesInFlight: 1));
        await sequential.BindAsync();
        Assert.Equal("done", await sequential.WaitForStatusAsync("done", "err"));
        Assert.Equal(1, simulator.Store.ThrottlingCounters.PeakConcurrency);

        var events = await EventsByIdAsync(wide);
        Assert.Equal(simulator.Store.CountImportableEvents(folder), events.Count);
        Assert.Equal(events, await EventsByIdAsync(sequential));
    }

    [Fact]
    public async Task Calls_past_the_connections_wait_for_one_and_meanwhile_the_claim_passes_the_admin_account_over()
    {
        await using var simulator = await SimulatorHost.StartAsync();
        await using var world = await ImportWorld.StartAsync(simulator, SimulatedConnector.Ews, new Dictionary<string, string?>
        {
            ["ExchangeBridge:Import:Workers"] = "0", // the test claims
            ["ExchangeBridge:Import:MaxConnectionsPerEwsAdminAccount"] = "1",
        });
        var services = world.Server.Services;
        var jobs = services.GetRequiredService<JobStore>();
        var connections = services.GetRequiredService<AdminAccountConnections>();
        var limits = services.GetRequiredService<IOptions<ImportOptions>>().Value.ClaimLimits;
        var admin = AdminAccounts.ToConnectorAccount((await services.GetRequiredService<BindingStore>().FindAdminAccountAsync(ImportWorld.Admin, default))!,
            services.GetRequiredService<SecretProtector>());
        var exchange = connections.Through(admin, services.GetRequiredKeyedService<IExchangeConnector>(ExchangeConnectorKind.Ews));
        await world.BindAsync();
        var now = world.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds();

        // Exchange hangs on the first call; the second waits for its connection here instead of opening another.
        simulator.Store.EnforceThrottling(ThrottlingPolicy.Unlimited);
        simulator.Store.InjectFault(ImportWorld.Mailbox, SimFault.Hang, requests: 1);
        using var giveUp = new CancellationTokenSource();
        var hanging = exchange.ListCalendarFoldersAsync(admin, ImportWorld.Mailbox, giveUp.Token);
        var waiting = exchange.ListCalendarFoldersAsync(admin, ImportWorld.Mailbox, default);
        await WaitUntilAsync(() => connections.Saturated.Contains(admin.Email) && simulator.Store.ThrottlingCounters.PeakConcurrency == 1);
        Assert.Null(await jobs.TryClaimAsync("instance-a", now, 60_000, limits, connections.Saturated, default));
        Assert.False(waiting.IsCompleted);

        // Giving up on the hung call frees its connection here at once; Exchange notices the closed request a moment
        // later, so the simulator's peak after this point says nothing about our limit and is not asserted.
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => hanging);
        Assert.NotEmpty(await waiting);
        Assert.Empty(connections.Saturated);
        Assert.NotNull(await jobs.TryClaimAsync("instance-a", now, 60_000, limits, connections.Saturated, default));
    }

    private static Dictionary<string, string?> Settings(int batchesInFlight) => new()
    {
        ["ExchangeBridge:Import:PageSize"] = "256",
        ["ExchangeBridge:Import:EwsBatchesInFlightPerMailbox"] = batchesInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ExchangeBridge:Import:MaxConnectionsPerEwsAdminAccount"] = Connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Every event of the mailbox's one calendar as the Open API answers it, by id.</summary>
    private static async Task<SortedDictionary<string, string>> EventsByIdAsync(ImportWorld world)
    {
        var calendar = (await world.CalendarsAsync()).Single()["calendar_id"]!.GetValue<string>();
        var events = await world.EventsAsync(calendar, pageSize: 500);
        return new SortedDictionary<string, string>(events.ToDictionary(e => e["event_id"]!.GetValue<string>(), e => e.ToJsonString()), StringComparer.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition never held");
            await Task.Delay(10);
        }
    }
}
