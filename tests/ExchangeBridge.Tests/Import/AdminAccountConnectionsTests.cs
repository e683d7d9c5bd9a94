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
/// while they are all out with calls waiting, the claim leases no further job of the account. Past its own batches, a
/// job sends more only on connections nobody else asks for, leaving one free for the next job.
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
        simulator.Store.Generate(folder, 600, ImportWorld.Monday); // pages of 256 listed items: several GetItem batches of 50 each

        simulator.Store.EnforceThrottling(ExchangeOfThreeConnections);
        await using var wide = await ImportWorld.StartAsync(simulator, SimulatedConnector.Ews, Settings(batchesInFlight: 4));
        await wide.BindAsync();
        Assert.Equal("done", await wide.WaitForStatusAsync("done", "err"));
        // Four batches asked for at once, three connections: three open together, never a fourth for Exchange to refuse.
        Assert.Equal((0L, Connections), (simulator.Store.ThrottlingCounters.RefusedForConcurrency, simulator.Store.ThrottlingCounters.PeakConcurrency));

        var events = await EventsByIdAsync(wide);
        Assert.Equal(simulator.Store.CountImportableEvents(folder), events.Count);
        Assert.Equal(events, await ImportedOneCallAtATimeAsync(simulator));
    }

    [Fact]
    public async Task A_mailbox_importing_alone_sends_more_than_its_own_batches_on_connections_nobody_else_asks_for_and_imports_the_same()
    {
        const int connections = 8;
        await using var simulator = await SimulatorHost.StartAsync();
        var folder = simulator.Store.DefaultFolder(ImportWorld.Mailbox);
        simulator.Store.Generate(folder, 600, ImportWorld.Monday);

        // GetItem long enough that a page's batches, sent together, are all open together.
        simulator.Store.EnforceThrottling(ThrottlingPolicy.Unlimited with
        {
            EwsMaxConcurrency = connections,
            EwsServiceTimes = new Dictionary<string, TimeSpan> { ["GetItem"] = TimeSpan.FromMilliseconds(200) },
        });
        // Batches of 10: a page of 256 listed items needs more than its four own.
        var settings = Settings(batchesInFlight: 4, connections);
        settings["ExchangeBridge:Import:FetchBatchSize"] = "10";
        await using var alone = await ImportWorld.StartAsync(simulator, SimulatedConnector.Ews, settings);
        await alone.BindAsync();
        Assert.Equal("done", await alone.WaitForStatusAsync("done", "err"));
        // Four of its own and more of the page on spare connections; never past the account's connections. (One is left
        // free here, but Exchange counts an answered request a moment after we have it, so its peak may reach the limit.)
        var counters = simulator.Store.ThrottlingCounters;
        Assert.Equal(0, counters.RefusedForConcurrency);
        Assert.InRange(counters.PeakConcurrency, 5, connections);

        var events = await EventsByIdAsync(alone);
        Assert.Equal(simulator.Store.CountImportableEvents(folder), events.Count);
        Assert.Equal(events, await ImportedOneCallAtATimeAsync(simulator));
    }

    [Fact]
    public async Task A_spare_connection_is_taken_without_waiting_and_never_the_last_free_one()
    {
        await using var simulator = await SimulatorHost.StartAsync();
        simulator.Store.Generate(simulator.Store.DefaultFolder(ImportWorld.Mailbox), 5, ImportWorld.Monday);
        await using var world = await ImportWorld.StartAsync(simulator, SimulatedConnector.Ews, new Dictionary<string, string?>
        {
            ["ExchangeBridge:Import:Workers"] = "0", // the test calls
            ["ExchangeBridge:Import:MaxConnectionsPerEwsAdminAccount"] = "3",
        });
        var services = world.Server.Services;
        var admin = AdminAccounts.ToConnectorAccount((await services.GetRequiredService<BindingStore>().FindAdminAccountAsync(ImportWorld.Admin, default))!,
            services.GetRequiredService<SecretProtector>());
        var exchange = services.GetRequiredService<AdminAccountConnections>()
            .Through(admin, services.GetRequiredKeyedService<IExchangeConnector>(ExchangeConnectorKind.Ews));
        var calendar = (await exchange.ListCalendarFoldersAsync(admin, ImportWorld.Mailbox, default)).Single();
        var ids = (await exchange.FindItemsInWindowAsync(admin, ImportWorld.Mailbox, calendar.FolderId, ImportWorld.Monday.AddYears(-1),
            ImportWorld.Monday.AddYears(1), 0, 100, default)).Items.Select(i => i.ItemId).ToList();

        // One call hangs on its connection (another mailbox's, so that no other call meets the hang): two are free, so
        // one of them is spare. A call holds its connection from the moment it is made.
        const string hanging = "hanging@contoso.com";
        simulator.Store.AddMailbox(hanging);
        simulator.Store.InjectFault(hanging, SimFault.Hang);
        using var giveUp = new CancellationTokenSource();
        var firstHanging = exchange.ListCalendarFoldersAsync(admin, hanging, giveUp.Token);
        var spare = exchange.TryGetEventsOnSpareConnection(admin, ImportWorld.Mailbox, ids, default);
        Assert.NotNull(spare);
        Assert.NotEmpty(await spare);

        // Two hang: the one free connection is left for whoever asks next, who gets it at once.
        var secondHanging = exchange.ListCalendarFoldersAsync(admin, hanging, giveUp.Token);
        Assert.Null(exchange.TryGetEventsOnSpareConnection(admin, ImportWorld.Mailbox, ids, default));
        Assert.NotEmpty(await exchange.GetEventsAsync(admin, ImportWorld.Mailbox, ids, default));

        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => firstHanging);
        await Assert.ThrowsAnyAsync<Exception>(() => secondHanging);
    }

    /// <summary>The same mailbox imported by a fresh server through one connection: one call at a time, as before batches went together.</summary>
    private static async Task<SortedDictionary<string, string>> ImportedOneCallAtATimeAsync(SimulatorHost simulator)
    {
        simulator.Store.EnforceThrottling(ExchangeOfThreeConnections);
        await using var sequential = await ImportWorld.StartAsync(simulator, SimulatedConnector.Ews, Settings(batchesInFlight: 1, connections: 1));
        await sequential.BindAsync();
        Assert.Equal("done", await sequential.WaitForStatusAsync("done", "err"));
        Assert.Equal(1, simulator.Store.ThrottlingCounters.PeakConcurrency);
        return await EventsByIdAsync(sequential);
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

    private static Dictionary<string, string?> Settings(int batchesInFlight, int connections = Connections) => new()
    {
        ["ExchangeBridge:Import:PageSize"] = "256",
        ["ExchangeBridge:Import:EwsBatchesInFlightPerMailbox"] = batchesInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ExchangeBridge:Import:MaxConnectionsPerEwsAdminAccount"] = connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
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
