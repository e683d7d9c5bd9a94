using Dapper;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Import;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Admin;

/// <summary>
/// An EWS password goes to a plain http:// endpoint only when the operator said so (the world registers its simulator
/// account with allow_cleartext_password: true).
/// </summary>
public sealed class CleartextPasswordTests() : ImportWorldTests(SimulatedConnector.Ews)
{
    [Fact]
    public async Task An_http_ews_endpoint_is_refused_unless_allow_cleartext_password_says_so_and_the_reason_is_given()
    {
        Assert.StartsWith("http://", Simulator.Endpoint.ToString());
        var body = SimulatedConnector.Ews.AccountBody(Simulator);
        body.Remove("allow_cleartext_password");
        var refused = await World.RegisterAdminAsync(body);
        Assert.Equal("failed", refused["verification_state"]!.GetValue<string>());
        Assert.False(refused["allow_cleartext_password"]!.GetValue<bool>());
        var reason = refused["verification_error"]!.GetValue<string>();
        Assert.Contains("in clear", reason);
        Assert.Contains("allow_cleartext_password", reason);
        await JsonAssert.ErrorAsync(await World.CreateBindingAsync(), 403, 195105);

        body["allow_cleartext_password"] = true;
        var accepted = await World.RegisterAdminAsync(body);
        Assert.Equal("verified", accepted["verification_state"]!.GetValue<string>());
        Assert.True(accepted["allow_cleartext_password"]!.GetValue<bool>());
        await World.BindAsync();
    }

    [Fact]
    public async Task An_account_registered_before_the_rule_stops_importing_with_the_reason()
    {
        // As a database migrated from before the rule holds it: an http endpoint, verified, and no consent stored.
        await World.Server.Services.GetRequiredService<IDatabase>().WriteAsync(Touched.Nothing, (c, tx, _) =>
            c.ExecuteAsync("UPDATE exchange_admin_accounts SET allow_cleartext_password = @no", new { no = false }, tx));
        await World.BindAsync();
        Assert.Equal("err", await World.WaitForStatusAsync("err", "done"));
        Assert.Contains("allow_cleartext_password", (await World.DiagnosticsAsync())["error_reason"]!.GetValue<string>());
    }
}
