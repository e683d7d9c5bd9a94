using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Server.Admin;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Infrastructure;

/// <summary>
/// One connector as the end-to-end tests drive it against the simulator: how its admin account is granted in the
/// simulator and registered through the operator API, and how the simulator refuses it. The same tests run for each
/// (<see cref="Ews"/>, <see cref="Graph"/>), so both connectors are held to one behaviour.
/// </summary>
public abstract class SimulatedConnector
{
    public const string Admin = "svc@contoso.com";
    public const string GraphTenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    public static readonly SimulatedConnector Ews = new EwsConnectorUnderTest();
    public static readonly SimulatedConnector Graph = new GraphConnectorUnderTest();

    /// <summary>"ews" or "graph", as the operator API names it.</summary>
    public abstract string Name { get; }

    /// <summary>What a throttled job's last error says (EWS's ErrorServerBusy, Graph's 429).</summary>
    public abstract string ThrottledMarker { get; }

    /// <summary>Requests one listing of a mailbox's calendar folders takes (every sync run begins with one).</summary>
    public abstract int FolderListingRequests { get; }

    /// <summary>Gives the admin account access to every mailbox, or only to <paramref name="only"/>.</summary>
    public abstract void Grant(MailboxStore store, IEnumerable<string>? only = null);

    /// <summary>The credentials the server registered are no longer accepted.</summary>
    public abstract void ChangeCredentials(MailboxStore store);

    /// <summary>
    /// The operator API's PUT body registering the admin account against <paramref name="simulator"/>, with the granted
    /// secret or <paramref name="secret"/>.
    /// </summary>
    public abstract Dictionary<string, object?> AccountBody(SimulatorHost simulator, string? secret = null);

    /// <summary>Environment for a server run as a process (<see cref="ServerProcess"/>) so it can reach the simulator.</summary>
    public virtual IReadOnlyDictionary<string, string> ProcessEnvironment(SimulatorHost simulator) => new Dictionary<string, string>();

    /// <summary>Services for an in-process <see cref="TestServer"/> so it can reach the simulator.</summary>
    public virtual void ConfigureServer(IServiceCollection services, SimulatorHost simulator)
    {
    }

    public override string ToString() => Name;

    private sealed class EwsConnectorUnderTest : SimulatedConnector
    {
        private const string Password = "Svc-Pa55";

        public override string Name => AdminAccounts.Ews;
        public override string ThrottledMarker => "ErrorServerBusy";
        public override int FolderListingRequests => 2; // GetFolder for the default calendar, FindFolder for the others

        public override void Grant(MailboxStore store, IEnumerable<string>? only = null) => store.AddAdmin(Admin, Password, only);

        public override void ChangeCredentials(MailboxStore store) => store.AddAdmin(Admin, "changed-since-registration");

        public override Dictionary<string, object?> AccountBody(SimulatorHost simulator, string? secret = null) => new()
        {
            ["connector"] = Name, ["endpoint"] = simulator.Endpoint.ToString(), ["password"] = secret ?? Password,
            // The simulator listens on loopback over plain http.
            ["allow_cleartext_password"] = true,
        };
    }

    private sealed class GraphConnectorUnderTest : SimulatedConnector
    {
        private const string ClientId = "6731de76-14a6-49ae-97bc-6eba6914391e";
        private const string ClientSecret = "sim~secret.value";

        public override string Name => AdminAccounts.Graph;
        public override string ThrottledMarker => "HTTP 429 ApplicationThrottled";
        public override int FolderListingRequests => 1; // GET /users/{m}/calendars

        public override void Grant(MailboxStore store, IEnumerable<string>? only = null) => store.AddGraphApp(GraphTenantId, ClientId, ClientSecret, only);

        public override void ChangeCredentials(MailboxStore store) => store.AddGraphApp(GraphTenantId, ClientId, "changed-since-registration");

        public override Dictionary<string, object?> AccountBody(SimulatorHost simulator, string? secret = null) => new()
        {
            ["connector"] = Name, ["endpoint"] = simulator.GraphEndpoint.ToString(), ["graph_tenant_id"] = GraphTenantId,
            ["graph_client_id"] = ClientId, ["client_secret"] = secret ?? ClientSecret,
        };

        /// <summary>The simulator's throw-away certificate as the process's only trusted root (.NET on Linux reads SSL_CERT_FILE).</summary>
        public override IReadOnlyDictionary<string, string> ProcessEnvironment(SimulatorHost simulator) =>
            new Dictionary<string, string> { ["SSL_CERT_FILE"] = simulator.CertificateFile };

        public override void ConfigureServer(IServiceCollection services, SimulatorHost simulator) =>
            services.AddHttpClient(AdminAccounts.Graph).ConfigurePrimaryHttpMessageHandler(simulator.TrustingHandler);
    }
}
