namespace ExchangeBridge.Client.Tests.Infrastructure;

/// <summary>
/// One server process (with --demo, on a fresh SQLite data folder) for a collection of test classes, started before the
/// first and stopped after the last. Import workers are off unless the settings say otherwise: the tests' mailboxes
/// have no Exchange behind them, so bindings stay <c>doing</c> and nothing runs in the background.
/// </summary>
public abstract class ServerFixture(IReadOnlyDictionary<string, string> settings) : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var environment = new Dictionary<string, string> { ["ExchangeBridge__Import__Workers"] = "0" };
        foreach (var (key, value) in settings) environment[key] = value;
        Server = await ServerProcess.StartAsync(environment: environment);
    }

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}

/// <summary>
/// The server most tests share. Its rate limits are far above what any test sends, so no test's timing depends on
/// them; request log lines are on, so a log id can be found in the server's log.
/// </summary>
public sealed class SharedServer() : ServerFixture(new Dictionary<string, string>
{
    ["ExchangeBridge__RateLimits__MethodPerSecond"] = "100000",
    ["ExchangeBridge__RateLimits__MethodPerMinute"] = "1000000",
    ["ExchangeBridge__RateLimits__AppPerSecond"] = "100000",
    ["Logging__LogLevel__ExchangeBridge.Requests"] = "Information",
});

/// <summary>A server that takes one create (and one read) per second and app, as a tight gateway would.</summary>
public sealed class RateLimitedServer() : ServerFixture(new Dictionary<string, string>
{
    ["ExchangeBridge__RateLimits__MethodPerSecond"] = "1",
});

/// <summary>Test classes of this collection share <see cref="SharedServer"/> and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class SharedServerCollection : ICollectionFixture<SharedServer>
{
    public const string Name = "shared server";
}

/// <summary>Test classes of this collection share <see cref="RateLimitedServer"/> and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class RateLimitedServerCollection : ICollectionFixture<RateLimitedServer>
{
    public const string Name = "rate-limited server";
}
