using System.Net;
using System.Security.Cryptography.X509Certificates;
using ExchangeBridge.ExchangeSimulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBridge.Tests.Infrastructure;

/// <summary>
/// The simulator on real Kestrel over a store the test fills: EWS over HTTP at a free loopback port, and Graph with its
/// token endpoint over HTTPS at another, with a throw-away certificate (MSAL requires HTTPS) that a Graph client trusts
/// through <see cref="TrustingHandler"/> (in process) or <see cref="CertificateFile"/> (a server process's SSL_CERT_FILE).
/// </summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SimulatorHost(WebApplication app, MailboxStore store, Uri endpoint, Uri graphEndpoint, X509Certificate2 certificate)
    {
        _app = app;
        Store = store;
        Endpoint = endpoint;
        GraphEndpoint = graphEndpoint;
        Certificate = certificate;
        CertificateFile = Path.Combine(Directory.CreateTempSubdirectory("exbridge-simulator-").FullName, "simulator.pem");
        File.WriteAllText(CertificateFile, certificate.ExportCertificatePem());
    }

    public MailboxStore Store { get; }

    /// <summary>The EWS endpoint.</summary>
    public Uri Endpoint { get; }

    /// <summary>The Graph base URL (https://127.0.0.1:port/v1.0); its origin is also the token authority.</summary>
    public Uri GraphEndpoint { get; }

    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate as PEM in a file of its own, for a trust store of one.</summary>
    public string CertificateFile { get; }

    public HttpMessageHandler TrustingHandler() => SimulatorCertificate.TrustOnly(Certificate);

    public static async Task<SimulatorHost> StartAsync(MailboxStore? store = null)
    {
        store ??= new MailboxStore();
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
        return new SimulatorHost(app, store, new Uri(addresses.Single(a => a.Scheme == "http"), "/EWS/Exchange.asmx"),
            new Uri(addresses.Single(a => a.Scheme == "https"), "/v1.0"), certificate);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(CertificateFile)!, recursive: true);
    }
}
