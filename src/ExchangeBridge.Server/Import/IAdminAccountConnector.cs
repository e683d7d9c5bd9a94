using ExchangeBridge.Core.Exchange;

namespace ExchangeBridge.Server.Import;

/// <summary>
/// An Exchange connector as seen through one admin account's connections on this instance
/// (<see cref="AdminAccountConnections.Through"/>): each call holds one of them while it is out.
/// </summary>
public interface IAdminAccountConnector : IExchangeConnector
{
    /// <summary>
    /// <see cref="IExchangeConnector.GetEventsAsync"/> on a connection that is spare right now, or null without waiting:
    /// one is spare when more than one is free and no call waits for one (the one left is for the job claimed next). It
    /// is work-conserving: a job already at its own batches in flight sends more only into connections nobody else asks
    /// for, so when few jobs of the account remain they use its connections instead of leaving them idle, and when many
    /// run nothing changes. Such a call never takes a connection a waiting call is owed (the limiter serves waiting calls
    /// first, and a lease tried without waiting is refused while any wait); a call that comes after waits at most for one
    /// request out.
    /// </summary>
    Task<IReadOnlyList<ExchangeEvent>>? TryGetEventsOnSpareConnection(ExchangeAdminAccount admin, string mailbox,
        IReadOnlyList<string> itemIds, CancellationToken cancellationToken);
}
