using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Import;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Admin;

/// <summary>An EWS password goes to a plain http:// endpoint only when the operator said so.</summary>
public sealed class CleartextPasswordTests : IAsyncLifetime
{
    private SimulatorHost _simulator = null!;
    private ImportWorld _world = null!;

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorHost.StartAsync();
        _world = await ImportWorld.StartAsync(_simulator, SimulatedConnector.Ews); // registered with allow_cleartext_password: true
    }

    public async Task DisposeAsync()
    {
        await _world.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task An_http_ews_endpoint_is_refused_unless_allow_cleartext_password_says_so_and_the_reason_is_given()
    {
        Assert.StartsWith("http://", _simulator.Endpoint.ToString());
        var body = SimulatedConnector.Ews.AccountBody(_simulator);
        body.Remove("allow_cleartext_password");
        var refused = await _world.RegisterAdminAsync(body);
        Assert.Equal("failed", refused["verification_state"]!.GetValue<string>());
        Assert.False(refused["allow_cleartext_password"]!.GetValue<bool>());
        var reason = refused["verification_error"]!.GetValue<string>();
        Assert.Contains("in clear", reason);
        Assert.Contains("allow_cleartext_password", reason);
        await JsonAssert.ErrorAsync(await _world.CreateBindingAsync(), 403, 195105);

        body["allow_cleartext_password"] = true;
        var accepted = await _world.RegisterAdminAsync(body);
        Assert.Equal("verified", accepted["verification_state"]!.GetValue<string>());
        Assert.True(accepted["allow_cleartext_password"]!.GetValue<bool>());
        await _world.BindAsync();
    }

    [Fact]
    public async Task An_account_registered_before_the_rule_stops_importing_with_the_reason()
    {
        // As a database migrated from before the rule holds it: an http endpoint, verified, and no consent stored.
        await _world.Server.Services.GetRequiredService<IDatabase>().WriteAsync(Touched.Nothing, (c, tx, _) =>
            c.ExecuteAsync("UPDATE exchange_admin_accounts SET allow_cleartext_password = @no", new { no = false }, tx));
        await _world.BindAsync();
        Assert.Equal("err", await _world.WaitForStatusAsync("err", "done"));
        Assert.Contains("allow_cleartext_password", (await _world.DiagnosticsAsync())["error_reason"]!.GetValue<string>());
    }
}
