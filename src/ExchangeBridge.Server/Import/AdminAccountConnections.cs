using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using ExchangeBridge.Core.Exchange;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Import;

/// <summary>
/// The connections this instance has open to Exchange through each admin account. Every call of an import to Exchange (a
/// folder listing, a page of changes, a GetItem batch; a connector sends a call's requests one after another) holds one
/// while it is out, taken from the account's <see cref="ConcurrencyLimiter"/> (<see cref="ImportOptions.MaxConnectionsPerEwsAdminAccount"/>
/// permits, or Graph's); a call over the limit waits for the oldest one out to answer, first come first served, instead of
/// being sent to be refused (EWS ErrorExceededConnectionCount). What is counted is connections, not jobs: one job may hold
/// several (<see cref="ImportOptions.EwsBatchesInFlightPerMailbox"/>, and more on connections spare right now:
/// <see cref="IAdminAccountConnector.TryGetEventsOnSpareConnection"/>), and a job writing a page to the database holds none.
/// The claim reads the same count: while an account's connections here are all out and calls wait for one
/// (<see cref="Saturated"/>), this instance claims no further job of it, which would only wait behind them.
/// <para>Per instance, as the workers are. Several instances importing through one admin account each hold up to its
/// limit: each should be given its share (<see cref="ImportOptions.MaxConnectionsPerEwsAdminAccount"/>). The claim's cap on
/// an account's jobs over every instance (<see cref="ImportOptions.MaxJobsPerEwsAdminAccount"/>) bounds them together only
/// while each job has one call out.</para>
/// </summary>
public sealed class AdminAccountConnections(IOptions<ImportOptions> options) : IDisposable
{
    private readonly ImportOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, ConcurrencyLimiter> _accounts = new(StringComparer.OrdinalIgnoreCase);

    /// <summary><paramref name="connector"/> as seen through <paramref name="admin"/>'s connections: each call holds one while it is out.</summary>
    public IAdminAccountConnector Through(ExchangeAdminAccount admin, IExchangeConnector connector) =>
        new LimitedConnector(_accounts.GetOrAdd(admin.Email, _ => new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = admin.Connector == ExchangeConnectorKind.Graph ? _options.MaxConnectionsPerGraphAdminAccount : _options.MaxConnectionsPerEwsAdminAccount,
            // Bounded by the calls the workers can have out at once (workers × batches in flight).
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        })), connector);

    /// <summary>The admin accounts (their emails) whose connections here are all out with calls waiting for one.</summary>
    public IReadOnlyList<string> Saturated =>
        [.. _accounts.Where(a => a.Value.GetStatistics() is { CurrentAvailablePermits: 0, CurrentQueuedCount: > 0 }).Select(a => a.Key)];

    public void Dispose()
    {
        foreach (var limiter in _accounts.Values) limiter.Dispose();
    }

    /// <summary>A connector whose every call holds one of its admin account's connections on this instance.</summary>
    private sealed class LimitedConnector(ConcurrencyLimiter connections, IExchangeConnector inner) : IAdminAccountConnector
    {
        /// <summary>
        /// Connections a spare call leaves free: a job claimed next finds one at once for its first call, instead of
        /// waiting behind another job's extra batches (and the claim, seeing calls wait, passing the account over).
        /// </summary>
        private const int LeftForOthers = 1;

        public Task VerifyAdminAsync(ExchangeAdminAccount admin, CancellationToken cancellationToken) =>
            HoldingAsync(async () =>
            {
                await inner.VerifyAdminAsync(admin, cancellationToken);
                return true;
            }, cancellationToken);

        public Task<IReadOnlyList<ExchangeCalendarFolder>> ListCalendarFoldersAsync(ExchangeAdminAccount admin, string mailbox,
            CancellationToken cancellationToken) =>
            HoldingAsync(() => inner.ListCalendarFoldersAsync(admin, mailbox, cancellationToken), cancellationToken);

        public Task<WindowPage> FindItemsInWindowAsync(ExchangeAdminAccount admin, string mailbox, string folderId, DateTimeOffset from,
            DateTimeOffset to, int offset, int maxItems, CancellationToken cancellationToken) =>
            HoldingAsync(() => inner.FindItemsInWindowAsync(admin, mailbox, folderId, from, to, offset, maxItems, cancellationToken), cancellationToken);

        public Task<SyncPage> SyncFolderAsync(ExchangeAdminAccount admin, string mailbox, string folderId, string? syncState, int maxChanges,
            CancellationToken cancellationToken) =>
            HoldingAsync(() => inner.SyncFolderAsync(admin, mailbox, folderId, syncState, maxChanges, cancellationToken), cancellationToken);

        public Task<IReadOnlyList<ExchangeEvent>> GetEventsAsync(ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> itemIds,
            CancellationToken cancellationToken) =>
            HoldingAsync(() => inner.GetEventsAsync(admin, mailbox, itemIds, cancellationToken), cancellationToken);

        public Task<IReadOnlyList<ExchangeEvent>>? TryGetEventsOnSpareConnection(ExchangeAdminAccount admin, string mailbox,
            IReadOnlyList<string> itemIds, CancellationToken cancellationToken)
        {
            if (connections.GetStatistics() is not { CurrentQueuedCount: 0 } statistics || statistics.CurrentAvailablePermits <= LeftForOthers) return null;
            var connection = connections.AttemptAcquire(1);
            if (connection.IsAcquired) return HeldAsync(connection, () => inner.GetEventsAsync(admin, mailbox, itemIds, cancellationToken));
            connection.Dispose();
            return null;
        }

        private async Task<T> HoldingAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
        {
            using var connection = await connections.AcquireAsync(1, cancellationToken);
            // The queue is unbounded, so a lease is refused only to a limiter disposed at shutdown.
            if (!connection.IsAcquired) throw new OperationCanceledException("the admin account's connections are closed", cancellationToken);
            return await call();
        }

        private static async Task<T> HeldAsync<T>(RateLimitLease connection, Func<Task<T>> call)
        {
            using (connection) return await call();
        }
    }
}
