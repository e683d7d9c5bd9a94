using System.Collections.Concurrent;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Ews;
using ExchangeBridge.ExchangeSimulator;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ExchangeBridge.Connectors.Tests;

/// <summary>The EWS simulator on Kestrel at a free loopback port, a connector pointed at it, and a log of what was sent.</summary>
public sealed class EwsSimulatorFixture : IAsyncDisposable
{
    public const string AdminUser = "svc-import@contoso.com";
    public const string AdminPassword = "correct horse battery staple";

    private readonly WebApplication _app;

    private EwsSimulatorFixture(WebApplication app, MailboxStore store, Uri endpoint, RecordingHandler recorder)
    {
        _app = app;
        Store = store;
        Endpoint = endpoint;
        Sent = recorder.Sent;
        Connector = new EwsConnector(new HttpClient(recorder));
    }

    public MailboxStore Store { get; }
    public Uri Endpoint { get; }
    public EwsConnector Connector { get; }
    public ConcurrentQueue<SentRequest> Sent { get; }
    public ExchangeAdminAccount Admin => AdminWith(AdminPassword);

    public ExchangeAdminAccount AdminWith(string password) => new(AdminUser, ExchangeConnectorKind.Ews, Endpoint, AdminUser, password);

    public static async Task<EwsSimulatorFixture> StartAsync(Action<MailboxStore>? fill = null)
    {
        var store = new MailboxStore();
        store.AddAdmin(AdminUser, AdminPassword);
        fill?.Invoke(store);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapEwsSimulator(store);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new EwsSimulatorFixture(app, store, new Uri(new Uri(address), "/EWS/Exchange.asmx"), new RecordingHandler());
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    public sealed record SentRequest(string Body, string? AnchorMailbox, string? Authorization);

    private sealed class RecordingHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        public ConcurrentQueue<SentRequest> Sent { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
            Sent.Enqueue(new SentRequest(body, request.Headers.TryGetValues("X-AnchorMailbox", out var anchor) ? anchor.Single() : null,
                request.Headers.Authorization?.ToString()));
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
