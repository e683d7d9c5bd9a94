using System.Security.Cryptography.X509Certificates;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Import;

/// <summary>Import end to end through Microsoft Graph (Exchange Online): the shared tests, and what is Graph's own.</summary>
public sealed class GraphImportEndToEndTests() : ImportEndToEndTests(SimulatedConnector.Graph)
{
    [Fact]
    public async Task Each_calendar_keeps_its_delta_link_and_the_next_sync_follows_it()
    {
        var store = World.Simulator.Store;
        store.Put(store.DefaultFolder(ImportWorld.Mailbox), new SimCalendarItem { ItemId = "a", Subject = "A", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1) });
        var team = store.AddFolder(ImportWorld.Mailbox, "Team");
        store.Put(team, new SimCalendarItem { ItemId = "b", Subject = "B", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1) });
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
        var first = await DeltaLinksAsync();
        Assert.Equal(2, first.Count);
        Assert.All(first.Values, link =>
        {
            Assert.StartsWith($"{World.Simulator.GraphEndpoint}/users/", link);
            Assert.Contains("/events/delta?$deltatoken=", link);
        });
        Assert.Equal(2, first.Values.Distinct().Count());

        store.Put(team, new SimCalendarItem { ItemId = "c", Subject = "C", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1) });
        await World.SyncAgainAsync();
        var second = await DeltaLinksAsync();
        Assert.Equal(first["Calendar"], second["Calendar"]);
        Assert.NotEqual(first["Team"], second["Team"]);
    }

    [Fact]
    public async Task An_admin_account_with_a_certificate_credential_is_verified_and_imports()
    {
        using var certificate = SimulatorCertificate.CreateClientCertificate();
        using var unknown = SimulatorCertificate.CreateClientCertificate();
        var store = World.Simulator.Store;
        store.AddGraphApp(SimulatedConnector.GraphTenantId, "cert-app", certificate);
        store.Put(store.DefaultFolder(ImportWorld.Mailbox), new SimCalendarItem { ItemId = "a", Subject = "A", Start = ImportWorld.Monday, End = ImportWorld.Monday.AddHours(1) });
        Dictionary<string, object?> WithCertificate(X509Certificate2 c)
        {
            var body = World.Connector.AccountBody(World.Simulator);
            body.Remove("client_secret");
            body["graph_client_id"] = "cert-app";
            body["client_certificate"] = SimulatorCertificate.ToPemWithKey(c);
            return body;
        }

        var refused = await World.RegisterAdminAsync(WithCertificate(unknown));
        Assert.Equal("failed", refused["verification_state"]!.GetValue<string>());
        Assert.StartsWith("Unauthorized", refused["verification_error"]!.GetValue<string>());
        Assert.Contains("AADSTS700027", refused["verification_error"]!.GetValue<string>());

        var registered = await World.RegisterAdminAsync(WithCertificate(certificate));
        Assert.Equal("verified", registered["verification_state"]!.GetValue<string>());
        Assert.Equal("certificate", registered["credential"]!.GetValue<string>());
        Assert.DoesNotContain("PRIVATE KEY", registered.ToJsonString());
        await World.BindAsync();
        Assert.Equal("done", await World.WaitForStatusAsync("done", "err"));
        Assert.Equal(["A"], (await World.EventsAsync((await World.CalendarsAsync()).Single()["calendar_id"]!.GetValue<string>()))
            .Select(e => e["summary"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("not a certificate", false)]
    [InlineData("certificate without its key", false)]
    [InlineData("certificate and a client_secret", true)]
    public async Task A_client_certificate_that_cannot_sign_is_refused_at_registration(string what, bool alsoSecret)
    {
        using var certificate = SimulatorCertificate.CreateClientCertificate();
        var body = World.Connector.AccountBody(World.Simulator);
        if (!alsoSecret) body.Remove("client_secret");
        body["client_certificate"] = what switch
        {
            "not a certificate" => "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
            "certificate without its key" => certificate.ExportCertificatePem(),
            _ => SimulatorCertificate.ToPemWithKey(certificate),
        };
        await JsonAssert.ErrorAsync(await World.Server.SendAsync(HttpMethod.Put,
            $"/admin/v1/tenants/{World.Server.Bootstrap.TenantKey}/exchange_admin_accounts/{ImportWorld.Admin}",
            System.Text.Json.JsonSerializer.Serialize(body), World.Server.Bootstrap.OperatorKey), 400, 40000);
    }

    /// <summary>The stored sync state of each calendar of the binding, by its summary.</summary>
    private async Task<Dictionary<string, string>> DeltaLinksAsync()
    {
        var calendars = World.Server.Services.GetRequiredService<CalendarStore>();
        var owned = await calendars.ListAsync(World.Server.Bootstrap.TenantKey, "alisa", 0, 100, default);
        return owned.ToDictionary(c => c.Summary, c => c.SyncState!);
    }
}
