using ExchangeBridge.ExchangeSimulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBridge.Tests.Infrastructure;

/// <summary>The EWS simulator on real Kestrel at a free loopback port, over a store the test fills.</summary>
public sealed class SimulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SimulatorHost(WebApplication app, MailboxStore store, Uri endpoint)
    {
        _app = app;
        Store = store;
        Endpoint = endpoint;
    }

    public MailboxStore Store { get; }
    public Uri Endpoint { get; }

    public static async Task<SimulatorHost> StartAsync(MailboxStore? store = null)
    {
        store ??= new MailboxStore();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapEwsSimulator(store);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SimulatorHost(app, store, new Uri(new Uri(address), "/EWS/Exchange.asmx"));
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
