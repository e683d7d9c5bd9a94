namespace ExchangeBridge.Core.Exchange;

/// <summary>
/// How the import engine reaches one Exchange organisation through its admin account. One implementation per
/// protocol (EWS for Exchange Server, Microsoft Graph for Exchange Online). Every call is stateless: what must
/// survive a crash (sync states, window offsets) is returned to the caller, which persists it. Folder and item ids are
/// given and taken in the EWS form (<see cref="ExchangeIds"/>) whatever the protocol, so they identify the same folder
/// and item through every connector; sync states belong to the connector that issued them.
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
    /// into the window from outside it). Resumable by offset. Only singles and masters are listed: modified
    /// occurrences live inside their master and come back from <see cref="GetEventsAsync"/> with it.
    /// </summary>
    Task<WindowPage> FindItemsInWindowAsync(
        ExchangeAdminAccount admin, string mailbox, string folderId, DateTimeOffset from, DateTimeOffset to,
        int offset, int maxItems, CancellationToken cancellationToken);

    /// <summary>
    /// One page of changes since <paramref name="syncState"/> (null: from the beginning, i.e. every item), at most
    /// <paramref name="maxChanges"/> (EWS caps it at 512). Like the window, it names singles and masters only: a
    /// modified or deleted occurrence shows up as an update of its master (new ChangeKey), a deleted series as the
    /// master's id in <see cref="SyncPage.DeletedItemIds"/> (its exceptions go with it).
    /// </summary>
    /// <exception cref="ExchangeConnectorException">with <see cref="ExchangeFailureKind.InvalidSyncState"/>
    /// when the state is no longer accepted: the caller restarts from null.</exception>
    Task<SyncPage> SyncFolderAsync(
        ExchangeAdminAccount admin, string mailbox, string folderId, string? syncState, int maxChanges,
        CancellationToken cancellationToken);

    /// <summary>
    /// Full properties of the given items, in request order, each recurring master immediately followed by all its
    /// current exceptions (<see cref="ExchangeEvent.SeriesMasterId"/> and <see cref="ExchangeEvent.OriginalStart"/>
    /// set); the result can thus be longer than the request. An exception the master no longer lists is gone. Items
    /// deleted since they were listed are left out (the next sync reports them). Any batch size works: EWS requests
    /// are split into batches of 50.
    /// </summary>
    Task<IReadOnlyList<ExchangeEvent>> GetEventsAsync(
        ExchangeAdminAccount admin, string mailbox, IReadOnlyList<string> itemIds, CancellationToken cancellationToken);
}
