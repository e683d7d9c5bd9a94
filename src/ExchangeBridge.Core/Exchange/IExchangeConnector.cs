namespace ExchangeBridge.Core.Exchange;

/// <summary>
/// How the import engine reaches one Exchange organisation through its admin account. One implementation per
/// protocol (EWS for Exchange Server, Microsoft Graph for Exchange Online). Every call is stateless: what must
/// survive a crash (sync states, window offsets) is returned to the caller, which persists it.
/// </summary>
public interface IExchangeConnector
{
    /// <summary>Checks that the admin account's endpoint answers and its credentials are accepted.</summary>
    /// <exception cref="ExchangeConnectorException">the account cannot be used, with the reason.</exception>
    Task VerifyAdminAsync(ExchangeAdminAccount admin, CancellationToken cancellationToken);

    /// <summary>The calendar folders of <paramref name="mailbox"/>, reached by impersonation.</summary>
    Task<IReadOnlyList<ExchangeCalendarFolder>> ListCalendarFoldersAsync(
        ExchangeAdminAccount admin, string mailbox, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the items of a folder that touch [from, to), plus every recurring master (a series may reach
    /// into the window from outside it). Resumable by offset.
    /// </summary>
    Task<WindowPage> FindItemsInWindowAsync(
        ExchangeAdminAccount admin, string mailbox, string folderId, DateTimeOffset from, DateTimeOffset to,
        int offset, int maxItems, CancellationToken cancellationToken);

    /// <summary>
    /// One page of changes since <paramref name="syncState"/> (null: from the beginning, i.e. every item).
    /// </summary>
    /// <exception cref="ExchangeConnectorException">with <see cref="ExchangeFailureKind.InvalidSyncState"/>
    /// when the state is no longer accepted: the caller restarts from null.</exception>
    Task<SyncPage> SyncFolderAsync(
        ExchangeAdminAccount admin, string mailbox, string folderId, string? syncState, int maxChanges,
        CancellationToken cancellationToken);

    /// <summary>Full properties of the given items (a batch of at most a few dozen ids).</summary>
    Task<IReadOnlyList<ExchangeEvent>> GetEventsAsync(
        ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> itemIds, CancellationToken cancellationToken);
}
