using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Dapper;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Import;

public sealed class EwsSyncFaultTests() : SyncFaultTests(SimulatedConnector.Ews);

public sealed class GraphSyncFaultTests() : SyncFaultTests(SimulatedConnector.Graph);

/// <summary>
/// Faults by kind, end to end through the server and the simulator: outages never end a binding, only what a person must
/// fix shows err, unexpected failures are bounded, and err is left again on its own, on re-registration, on a re-bind
/// and on an operator's retry, keeping every calendar and event id. Back-off runs on the server's test clock: each
/// test moves it to the next attempt instead of waiting.
/// </summary>
public abstract class SyncFaultTests(SimulatedConnector connector) : IAsyncLifetime
{
    private const string Mailbox = ImportWorld.Mailbox;
    private const string RotatedSecret = "changed-since-registration";
    private static readonly DateTimeOffset Monday = ImportWorld.Monday;

    private SimulatorHost _simulator = null!;
    private ImportWorld _world = null!;

    private MailboxStore Store => _simulator.Store;

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorHost.StartAsync();
        _world = await ImportWorld.StartAsync(_simulator, connector, new Dictionary<string, string?>
        {
            // Short back-off, so that many attempts take little clock; the err schedule stays slow.
            ["ExchangeBridge:Import:MaxRetrySeconds"] = "5",
            ["ExchangeBridge:Import:ErrRetrySeconds"] = "3600",
        });
        Store.Put(Store.DefaultFolder(Mailbox), new SimCalendarItem { ItemId = "a", Subject = "A", Start = Monday, End = Monday.AddHours(1) });
        Store.Put(Store.AddFolder(Mailbox, "Team"), new SimCalendarItem { ItemId = "b", Subject = "B", Start = Monday, End = Monday.AddHours(1) });
    }

    public async Task DisposeAsync()
    {
        await _world.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Theory]
    [InlineData(SimFault.Refuse)]
    [InlineData(SimFault.InternalServerError)]
    [InlineData(SimFault.ServerBusy)]
    public async Task An_outage_of_many_attempts_leaves_a_done_binding_done_and_shows_how_late_it_is(SimFault fault)
    {
        await BindUntilDoneAsync();
        var synced = (await _world.DiagnosticsAsync())["last_synced_at"]!.GetValue<long>();
        Store.InjectFault(Mailbox, fault, requests: 20, backOff: TimeSpan.FromSeconds(1)); // more attempts than any fixed limit of ours had
        _world.Server.Clock.Advance(TimeSpan.FromSeconds(301));

        // At rest between attempts: released and waiting for its next run (not just made due by the clock, not yet claimed).
        var late = await _world.RunAttemptsUntilAsync(d => d["attempts"]!.GetValue<int>() >= 3 && d["jobs"]![0]!["lease_owner"] is null &&
            d["jobs"]![0]!["run_at"]!.GetValue<long>() > _world.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        Assert.Equal("done", late["status"]!.GetValue<string>());
        Assert.Equal(synced, late["last_synced_at"]!.GetValue<long>());
        Assert.NotNull(late["last_error"]);
        Assert.True(late["last_error_at"]!.GetValue<long>() > synced);
        Assert.True(late["next_attempt_at"]!.GetValue<long>() > _world.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds());

        var recovered = await _world.RunAttemptsUntilAsync(d => d["last_error"] is null,
            meanwhile: d => Assert.Equal("done", d["status"]!.GetValue<string>()));
        Assert.True(recovered["last_synced_at"]!.GetValue<long>() > synced);
        Assert.Equal(0, recovered["attempts"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_outage_from_the_first_attempt_ends_done_not_err()
    {
        Store.InjectFault(Mailbox, SimFault.InternalServerError, requests: 20);
        await _world.BindAsync();
        await _world.RunAttemptsUntilAsync(d => d["status"]!.GetValue<string>() == "done",
            meanwhile: d => Assert.NotEqual("err", d["status"]!.GetValue<string>()));
        Assert.Equal(2, (await _world.CalendarsAsync()).Count);
    }

    [Fact]
    public async Task A_rotated_password_shows_err_with_what_to_do_and_registering_it_again_recovers_with_the_same_ids()
    {
        var before = await BindUntilDoneAsync();
        connector.ChangeCredentials(Store);
        _world.Server.Clock.Advance(TimeSpan.FromSeconds(301));

        var failed = await WaitForErrAsync();
        var reason = failed["error_reason"]!.GetValue<string>();
        Assert.StartsWith("Unauthorized", reason);
        Assert.Contains("Register the admin account again", reason);

        var registered = await _world.RegisterAdminAsync(connector.AccountBody(_simulator, secret: RotatedSecret));
        Assert.Equal("verified", registered["verification_state"]!.GetValue<string>());
        Assert.Equal("done", await _world.WaitForStatusAsync("done")); // at once: the clock is not moved
        Assert.Equal(before, await IdsAsync());
    }

    [Fact]
    public async Task Binding_an_err_triple_again_retries_it_and_answers_doing()
    {
        var (before, _) = await DoneThenImpersonationRefusedAsync();

        connector.Grant(Store);
        var again = await JsonAssert.SuccessAsync(await _world.CreateBindingAsync());
        Assert.Equal("doing", again["data"]!["status"]!.GetValue<string>());
        Assert.Equal(_world.BindingId, again["data"]!["exchange_binding_id"]!.GetValue<string>());
        Assert.Equal("done", await _world.WaitForStatusAsync("done"));
        Assert.Equal(before, await IdsAsync());
    }

    [Fact]
    public async Task An_operators_retry_runs_an_err_binding_at_once()
    {
        var (before, failed) = await DoneThenImpersonationRefusedAsync();
        Assert.StartsWith("ImpersonationDenied", failed["error_reason"]!.GetValue<string>());
        Assert.True(failed["next_attempt_at"]!.GetValue<long>() >= _world.Server.Clock.GetUtcNow().AddMinutes(59).ToUnixTimeMilliseconds());

        connector.Grant(Store);
        var retried = await JsonAssert.SuccessAsync(await RetryAsync(new JsonObject { ["exchange_binding_id"] = _world.BindingId }));
        Assert.Equal(1, retried["data"]!["retried"]!.GetValue<int>());
        Assert.Equal("done", await _world.WaitForStatusAsync("done"));
        Assert.Equal(before, await IdsAsync());
        Assert.Null((await _world.DiagnosticsAsync())["error_reason"]);
    }

    [Fact]
    public async Task An_err_binding_is_tried_again_on_its_own_an_hour_later()
    {
        connector.Grant(Store, only: ["someone-else@contoso.com"]);
        await _world.BindAsync();
        await WaitForErrAsync();

        connector.Grant(Store);
        _world.Server.Clock.Advance(TimeSpan.FromMinutes(30)); // far past any back-off: err waits on the slow schedule
        var waiting = await _world.DiagnosticsAsync();
        Assert.Equal("err", waiting["status"]!.GetValue<string>());
        Assert.True(waiting["next_attempt_at"]!.GetValue<long>() > _world.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        _world.Server.Clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal("done", await _world.WaitForStatusAsync("done"));
    }

    [Fact]
    public async Task Unexpected_failures_are_bounded_and_end_in_err_with_the_reason()
    {
        // What a changed master key does: the stored credentials no longer decrypt.
        var otherKey = new SecretProtector(RandomNumberGenerator.GetBytes(32));
        await using (var c = await _world.Server.Services.GetRequiredService<IDatabase>().OpenAsync())
            await c.ExecuteAsync("UPDATE exchange_admin_accounts SET secret_protected = @secret", new { secret = otherKey.Protect("whatever") });
        await _world.BindAsync();

        var failed = await _world.RunAttemptsUntilAsync(d => d["status"]!.GetValue<string>() == "err" && d["jobs"]![0]!["lease_owner"] is null);
        Assert.StartsWith("Unexpected: the admin account's stored credentials cannot be decrypted", failed["error_reason"]!.GetValue<string>());
        Assert.Equal(5, failed["attempts"]!.GetValue<int>()); // UnexpectedFailuresBeforeErr, with back-off between them

        await _world.RegisterAdminAsync(connector.AccountBody(_simulator));
        Assert.Equal("done", await _world.WaitForStatusAsync("done"));
    }

    private Task<HttpResponseMessage> RetryAsync(JsonObject body) =>
        _world.Server.SendAsync(HttpMethod.Post, $"/admin/v1/tenants/{_world.Server.Bootstrap.TenantKey}/exchange_bindings/retry",
            body.ToJsonString(), _world.Server.Bootstrap.OperatorKey);

    /// <summary>A binding done, then its admin account's right to the mailbox withdrawn: the next sync shows err.</summary>
    private async Task<(string[] Ids, JsonObject Failed)> DoneThenImpersonationRefusedAsync()
    {
        var ids = await BindUntilDoneAsync();
        connector.Grant(Store, only: ["someone-else@contoso.com"]);
        _world.Server.Clock.Advance(TimeSpan.FromSeconds(301));
        return (ids, await WaitForErrAsync());
    }

    /// <summary>The binding in err with its next attempt recorded (err is shown first, then the job lets go of its lease).</summary>
    private Task<JsonObject> WaitForErrAsync() =>
        _world.WaitForDiagnosticsAsync(d => d["status"]!.GetValue<string>() == "err" && d["jobs"]![0]!["lease_owner"] is null);

    private async Task<string[]> BindUntilDoneAsync()
    {
        await _world.BindAsync();
        Assert.Equal("done", await _world.WaitForStatusAsync("done", "err"));
        return await IdsAsync();
    }

    /// <summary>Every calendar id with its event ids, as a client that stored them would compare them.</summary>
    private async Task<string[]> IdsAsync()
    {
        var ids = new List<string>();
        foreach (var calendar in await _world.CalendarsAsync())
        {
            var calendarId = calendar["calendar_id"]!.GetValue<string>();
            ids.AddRange((await _world.EventsAsync(calendarId)).Select(e => $"{calendarId}/{e["event_id"]!.GetValue<string>()}"));
        }
        Assert.Equal(2, ids.Count);
        return [.. ids.Order()];
    }
}
