using ExchangeBridge.ExchangeSimulator;
using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Import;

/// <summary>
/// The ground the import tests stand on: a simulator and an <see cref="ImportWorld"/> of one connector, started before
/// each test and stopped after it. Subclasses run once per connector.
/// </summary>
/// <param name="connector">the protocol the server reaches the simulator by.</param>
/// <param name="settings">import settings of the test class's own, over the world's.</param>
public abstract class ImportWorldTests(SimulatedConnector connector, IReadOnlyDictionary<string, string?>? settings = null)
    : IAsyncLifetime
{
    protected const string Mailbox = ImportWorld.Mailbox;
    protected static readonly DateTimeOffset Monday = ImportWorld.Monday;

    protected SimulatorHost Simulator { get; private set; } = null!;
    protected ImportWorld World { get; private set; } = null!;
    protected MailboxStore Store => Simulator.Store;
    protected SimulatedConnector Connector => World.Connector;

    public virtual async Task InitializeAsync()
    {
        Simulator = await SimulatorHost.StartAsync();
        World = await ImportWorld.StartAsync(Simulator, connector, settings);
    }

    public async Task DisposeAsync()
    {
        await World.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}
