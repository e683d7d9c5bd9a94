using System.Net;
using System.Security.Cryptography.X509Certificates;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Ews;
using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Graph;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>
/// One simulator on Kestrel answering EWS over HTTP and Graph (and its token endpoint) over HTTPS with a throw-away
/// certificate, with both connectors pointed at it, so one mailbox can be read through either.
/// </summary>
public sealed class GraphSimulatorFixture : IAsyncDisposable
{
    public const string TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    public const string ClientId = "6731de76-14a6-49ae-97bc-6eba6914391e";
    public const string ClientSecret = "sim~secret.value";
    public const string AdminUser = "svc-import@contoso.com";
    public const string AdminPassword = "correct horse battery staple";

    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;

    private GraphSimulatorFixture(WebApplication app, MailboxStore store, Uri graphEndpoint, Uri ewsEndpoint, X509Certificate2 certificate)
    {
        _app = app;
        _certificate = certificate;
        Store = store;
        GraphEndpoint = graphEndpoint;
        EwsEndpoint = ewsEndpoint;
        Connector = new GraphConnector(new HttpClient(SimulatorCertificate.TrustOnly(certificate)));
        Ews = new EwsConnector(new HttpClient());
    }

    public MailboxStore Store { get; }
    public Uri GraphEndpoint { get; }
    public Uri EwsEndpoint { get; }
    public GraphConnector Connector { get; }
    public EwsConnector Ews { get; }
    public ExchangeAdminAccount Admin => AdminWith(ClientSecret);

    /// <summary>A handler that trusts the simulator's certificate, to send requests of one's own or to wrap.</summary>
    public HttpMessageHandler TrustingHandler() => SimulatorCertificate.TrustOnly(_certificate);
    public ExchangeAdminAccount EwsAdmin => new(AdminUser, ExchangeConnectorKind.Ews, EwsEndpoint, AdminUser, AdminPassword);

    public ExchangeAdminAccount AdminWith(string secret) =>
        new(AdminUser, ExchangeConnectorKind.Graph, GraphEndpoint, AdminUser, secret, TenantId, ClientId);

    public static async Task<GraphSimulatorFixture> StartAsync(Action<MailboxStore>? fill = null)
    {
        var store = new MailboxStore();
        store.AddAdmin(AdminUser, AdminPassword);
        store.AddGraphApp(TenantId, ClientId, ClientSecret);
        fill?.Invoke(store);
        var certificate = SimulatorCertificate.Create();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate));
        });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapEwsSimulator(store);
        app.MapGraphSimulator(store);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        var https = addresses.Single(a => a.Scheme == "https");
        var http = addresses.Single(a => a.Scheme == "http");
        return new GraphSimulatorFixture(app, store, new Uri(https, "/v1.0"), new Uri(http, "/EWS/Exchange.asmx"), certificate);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
