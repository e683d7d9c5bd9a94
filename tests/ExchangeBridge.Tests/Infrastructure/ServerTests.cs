namespace ExchangeBridge.Tests.Infrastructure;

/// <summary>
/// A test class whose every test has a server of its own (xUnit makes an instance of the class per test): started as the
/// instance is made, stopped with its data folder or database after the test. A class that needs something in place
/// before each test (a binding, tokens) overrides <see cref="InitializeAsync"/>.
/// </summary>
public abstract class ServerTests(TestServer server) : IAsyncLifetime
{
    protected TestServer Server { get; } = server;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
