namespace ExchangeBridge.Server.Storage;

/// <summary>
/// Closes the database once the host has stopped (after every hosted service, and so every request and background
/// write, has finished), so that stopping the host frees the data folder. The container's disposal alone did not:
/// the web host is disposed both by whoever stops it and by the program's own <c>Run</c>, and the container lets the
/// first caller do the work while the second returns at once; a server restarted on the same folder could then find
/// the ownership file still held. <see cref="IDatabase"/> closes once however many ask, each waiting for the close.
/// </summary>
internal sealed class DatabaseShutdown(IDatabase database) : IHostedLifecycleService
{
    public Task StoppedAsync(CancellationToken cancellationToken) => database.DisposeAsync().AsTask();

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
