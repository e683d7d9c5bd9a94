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
public abstract class SyncFaultTests(SimulatedConnector connector) : ImportWorldTests(connector, new Dictionary<string, string?>
{
    // Short back-off, so that many attempts take little clock; the err schedule stays slow.
    ["ExchangeBridge:Import:MaxRetrySeconds"] = "5",
    ["ExchangeBridge:Import:ErrRetrySeconds"] = "3600",
})
{
    private const string RotatedSecret = "changed-since-registration";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Store.Put(Store.DefaultFolder(Mailbox), new SimCalendarItem { ItemId = "a", Subject = "A", Start = Monday, End = Monday.AddHours(1) });
        Store.Put(Store.AddFolder(Mailbox, "Team"), new SimCalendarItem { ItemId = "b", Subject = "B", Start = Monday, End = Monday.AddHours(1) });
    }

    [Theory]
    [InlineData(SimFault.Refuse)]
    [InlineData(SimFault.InternalServerError)]
    [InlineData(SimFault.ServerBusy)]
    public async Task An_outage_of_many_attempts_leaves_a_done_binding_done_and_shows_how_late_it_is(SimFault fault)
    {
        await BindUntilDoneAsync();
        var synced = (await World.DiagnosticsAsync())["last_synced_at"]!.GetValue<long>();
        // More attempts than any fixed limit of ours had; a busy answer's back-off longer than a connector waits in place
        // (ThrottledRetry), so that each one ends an attempt.
        Store.InjectFault(Mailbox, fault, requests: 20, backOff: TimeSpan.FromSeconds(30));
        World.Server.Clock.Advance(TimeSpan.FromSeconds(301));

        // At rest between attempts: released and waiting for its next run (not just made due by the clock, not yet claimed).
        var late = await World.RunAttemptsUntilAsync(d => d["attempts"]!.GetValue<int>() >= 3 && d["jobs"]![0]!["lease_owner"] is null &&
            d["jobs"]![0]!["run_at"]!.GetValue<long>() > World.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        Assert.Equal("done", late["status"]!.GetValue<string>());
        Assert.Equal(synced, late["last_synced_at"]!.GetValue<long>());
        Assert.NotNull(late["last_error"]);
        Assert.True(late["last_error_at"]!.GetValue<long>() > synced);
        Assert.True(late["next_attempt_at"]!.GetValue<long>() > World.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds());

        var recovered = await World.RunAttemptsUntilAsync(d => d["last_error"] is null,
            meanwhile: d => Assert.Equal("done", d["status"]!.GetValue<string>()));
        Assert.True(recovered["last_synced_at"]!.GetValue<long>() > synced);
        Assert.Equal(0, recovered["attempts"]!.GetValue<int>());
    }

    [Fact]
    public async Task Under_Exchanges_documented_throttling_an_import_waits_out_each_short_back_off_in_place_and_ends_done()
    {
        // The documented limits with budgets of one request that comes back every 500 ms (on the real clock: the connectors
        // wait in real time), so most requests of the import are refused once, however fast the machine.
        Store.EnforceThrottling(ThrottlingPolicy.Documented with
        {
            EwsMaxBurst = TimeSpan.FromMilliseconds(100), EwsRechargePerHour = TimeSpan.FromMilliseconds(720_000),
            GraphRequestsPerWindow = 1, GraphWindow = TimeSpan.FromMilliseconds(500),
        });
        await World.BindAsync();

        // No attempt fails (a failed one would wait on the server's clock, with its error showing, until this moves it):
        // every refusal is waited out where it happened.
        await World.RunAttemptsUntilAsync(d => d["status"]!.GetValue<string>() == "done", meanwhile: d => Assert.Null(d["last_error"]));
        Assert.True(Store.ThrottlingCounters.RefusedForBudget > 0, "the budgets were not tight enough to throttle the import");
        Assert.Equal(2, (await World.CalendarsAsync()).Count);
    }

    [Fact]
    public async Task An_outage_from_the_first_attempt_ends_done_not_err()
    {
        Store.InjectFault(Mailbox, SimFault.InternalServerError, requests: 20);
        await World.BindAsync();
        await World.RunAttemptsUntilAsync(d => d["status"]!.GetValue<string>() == "done",
            meanwhile: d => Assert.NotEqual("err", d["status"]!.GetValue<string>()));
        Assert.Equal(2, (await World.CalendarsAsync()).Count);
    }

    [Fact]
    public async Task A_rotated_password_shows_err_with_what_to_do_and_registering_it_again_recovers_with_the_same_ids()
    {
        var before = await BindUntilDoneAsync();
        Connector.ChangeCredentials(Store);
        World.Server.Clock.Advance(TimeSpan.FromSeconds(301));

        var failed = await WaitForErrAsync();
        var reason = failed["error_reason"]!.GetValue<string>();
        Assert.StartsWith("Unauthorized", reason);
        Assert.Contains("Register the admin account again", reason);

        var registered = await World.RegisterAdminAsync(Connector.AccountBody(Simulator, secret: RotatedSecret));
        Assert.Equal("verified", registered["verification_state"]!.GetValue<string>());
        Assert.Equal("done", await World.WaitForStatusAsync("done")); // at once: the clock is not moved
        Assert.Equal(before, await IdsAsync());
    }

    [Fact]
    public async Task Binding_an_err_triple_again_retries_it_and_answers_doing()
    {
        var (before, _) = await DoneThenImpersonationRefusedAsync();

        Connector.Grant(Store);
        var again = await JsonAssert.SuccessAsync(await World.CreateBindingAsync());
        Assert.Equal("doing", again["data"]!["status"]!.GetValue<string>());
        Assert.Equal(World.BindingId, again["data"]!["exchange_binding_id"]!.GetValue<string>());
        Assert.Equal("done", await World.WaitForStatusAsync("done"));
        Assert.Equal(before, await IdsAsync());
    }

    [Fact]
    public async Task An_operators_retry_runs_an_err_binding_at_once()
    {
        var (before, failed) = await DoneThenImpersonationRefusedAsync();
        Assert.StartsWith("ImpersonationDenied", failed["error_reason"]!.GetValue<string>());
        Assert.True(failed["next_attempt_at"]!.GetValue<long>() >= World.Server.Clock.GetUtcNow().AddMinutes(59).ToUnixTimeMilliseconds());

        Connector.Grant(Store);
        var retried = await JsonAssert.SuccessAsync(await RetryAsync(new JsonObject { ["exchange_binding_id"] = World.BindingId }));
        Assert.Equal(1, retried["data"]!["retried"]!.GetValue<int>());
        Assert.Equal("done", await World.WaitForStatusAsync("done"));
        Assert.Equal(before, await IdsAsync());
        Assert.Null((await World.DiagnosticsAsync())["error_reason"]);
    }

    [Fact]
    public async Task An_err_binding_is_tried_again_on_its_own_an_hour_later()
    {
        Connector.Grant(Store, only: ["someone-else@contoso.com"]);
        await World.BindAsync();
        await WaitForErrAsync();

        Connector.Grant(Store);
        World.Server.Clock.Advance(TimeSpan.FromMinutes(30)); // far past any back-off: err waits on the slow schedule
        var waiting = await World.DiagnosticsAsync();
        Assert.Equal("err", waiting["status"]!.GetValue<string>());
        Assert.True(waiting["next_attempt_at"]!.GetValue<long>() > World.Server.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        World.Server.Clock.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal("done", await World.WaitForStatusAsync("done"));
    }

    [Fact]
    public async Task Unexpected_failures_are_bounded_and_end_in_err_with_the_reason()
    {
        // What a changed master key does: the stored credentials no longer decrypt.
        var otherKey = new SecretProtector(RandomNumberGenerator.GetBytes(32));
        await using (var c = await World.Server.Services.GetRequiredService<IDatabase>().OpenAsync())
            await c.ExecuteAsync("UPDATE exchange_admin_accounts SET secret_protected = @secret", new { secret = otherKey.Protect("whatever") });
        await World.BindAsync();

        var failed = await World.RunAttemptsUntilAsync(d => d["status"]!.GetValue<string>() == "err" && d["jobs"]![0]!["lease_owner"] is null);
        Assert.StartsWith("Unexpected: the admin account's stored credentials cannot be decrypted", failed["error_reason"]!.GetValue<string>());
        Assert.Equal(5, failed["attempts"]!.GetValue<int>()); // UnexpectedFailuresBeforeErr, with back-off between them

        await World.RegisterAdminAsync(Connector.AccountBody(Simulator));
        Assert.Equal("done", await World.WaitForStatusAsync("done"));
    }

    private Task<HttpResponseMessage> RetryAsync(JsonObject body) =>
        World.Server.SendAsync(HttpMethod.Post, $"/admin/v1/tenants/{World.Server.Bootstrap.TenantKey}/exchange_bindings/retry",
            body.ToJsonString(), World.Server.Bootstrap.OperatorKey);

    /// <summary>A binding done, then its admin account's right to the mailbox withdrawn: the next sync shows err.</summary>
    private async Task<(string[] Ids, JsonObject Failed)> DoneThenImpersonationRefusedAsync()
    {
        var ids = await BindUntilDoneAsync();
        Connector.Grant(Store, only: ["someone-else@contoso.com"]);
        World.Server.Clock.Advance(TimeSpan.FromSeconds(301));
        return (ids, await WaitForErrAsync());
    }

    /// <summary>The binding in err with its next attempt recorded (err is shown first, then the job lets go of its lease).</summary>
    private Task<JsonObject> WaitForErrAsync() =>
        World.WaitForDiagnosticsAsync(d => d["status"]!.GetValue<string>() == "err" && d["jobs"]![0]!["lease_owner"] is null);

    private async Task<string[]> BindUntilDoneAsync()
    {
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
        return await IdsAsync();
    }

    /// <summary>Every calendar id with its event ids, as a client that stored them would compare them.</summary>
    private async Task<string[]> IdsAsync()
    {
        var ids = new List<string>();
        foreach (var calendar in await World.CalendarsAsync())
        {
            var calendarId = calendar["calendar_id"]!.GetValue<string>();
            ids.AddRange((await World.EventsAsync(calendarId)).Select(e => $"{calendarId}/{e["event_id"]!.GetValue<string>()}"));
        }
        Assert.Equal(2, ids.Count);
        return [.. ids.Order()];
    }
}
