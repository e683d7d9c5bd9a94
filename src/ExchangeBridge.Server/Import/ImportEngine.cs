using System.Diagnostics;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Core.Exchange;
using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Import;

/// <summary>
/// Runs one leased job. An import moves its binding through doing → cal_done (calendars created) → timespan_done
/// (the recent window imported) → done (the whole history, ending with a sync state) and then stays queued as the
/// binding's incremental sync. Every page is applied in one transaction with its progress, so a crash at any point
/// resumes where the last committed page left off, and re-applying a page changes nothing; the same holds a run that
/// ends its turn to let other jobs run (<see cref="ImportOptions.TurnMilliseconds"/>).
/// </summary>
public sealed partial class ImportEngine(
    BindingStore bindings, CalendarStore calendars, JobStore jobs, IServiceProvider services, SecretProtector protector,
    AdminAccountConnections connections, TimeProvider clock, IOptions<ImportOptions> options, Hosting.ExchangeBridgeMetrics metrics, ILogger<ImportEngine> logger)
{
    private readonly ImportOptions _options = options.Value;
    private readonly ClaimLimits _limits = options.Value.ClaimLimits;
    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task RunAsync(JobRecord job, CancellationToken ct)
    {
        if (job.Kind == JobKinds.Unbind)
        {
            await calendars.DeleteForBindingAsync(job.BindingKey, Now, ct);
            await jobs.CompleteAsync(job, Now, ct);
            LogUnbound(logger, job.BindingKey);
            return;
        }

        var binding = await bindings.FindByKeyAsync(job.BindingKey, ct);
        if (binding is null)
        {
            await jobs.CancelAsync(job, Now, ct);
            return;
        }
        try
        {
            await ImportAsync(job, binding, new Turn(jobs, job, TimeSpan.FromMilliseconds(_options.TurnMilliseconds), () => Now), ct);
            await jobs.SyncedAsync(job, Now + _options.SyncIntervalSeconds * 1000L, Now, ct);
            metrics.JobFinished("synced");
        }
        catch (TurnOverException)
        {
            await jobs.EndTurnAsync(job, Now, ct);
            metrics.JobFinished("turn_ended");
        }
        catch (BindingGoneException)
        {
            await jobs.CancelAsync(job, Now, ct);
        }
        catch (Exception e) when (!(e is OperationCanceledException && ct.IsCancellationRequested))
        {
            await RetryAfterFaultAsync(job, binding, e, ct);
        }
    }

    /// <summary>
    /// Faults by kind: no fault ends a job. Throttling and transient faults keep the binding's status (a done binding stays
    /// done while its sync is late) and come back at the server's hint or after a back-off; what only a person can fix, and
    /// unexpected failures once they repeat, show err with the reason and are tried again every <see cref="ImportOptions.ErrRetrySeconds"/>
    /// (and at once when their cause may be fixed: <see cref="JobStore.RetryNowAsync"/>).
    /// </summary>
    private async Task RetryAfterFaultAsync(JobRecord job, BindingRecord binding, Exception e, CancellationToken ct)
    {
        var fault = SyncFaults.Classify(e);
        var unexpected = fault.Kind == SyncFaultKind.Unexpected;
        if (unexpected) LogUnexpected(logger, binding.Id, job.UnexpectedFailures + 1, e);
        if (fault.Kind == SyncFaultKind.NeedsPerson || unexpected && job.UnexpectedFailures + 1 >= _options.UnexpectedFailuresBeforeErr)
        {
            LogFailed(logger, binding.Id, fault.Reason);
            await calendars.SetBindingStatusAsync(job.BindingKey, BindingStatus.Err.ToWire(), fault.Reason, Now, ct);
            await jobs.RetryLaterAsync(job, Now + _options.ErrRetrySeconds * 1000L, fault.Reason, unexpected, Now, ct);
            metrics.JobFinished("failed");
            return;
        }
        if (fault.AccountWide &&
            await jobs.AdminAccountRefusedAsync(binding.TenantKey, binding.AdminAccount, Now, _limits, ct) is { } limit)
            LogAdminAccountLimited(logger, binding.Id, limit);
        var wait = fault.Kind == SyncFaultKind.Throttled && fault.RetryAfter is { } hint ? hint : Backoff(job.Attempts);
        LogRetrying(logger, binding.Id, job.Attempts, wait.TotalMilliseconds, fault.Reason);
        await jobs.RetryLaterAsync(job, Now + (long)wait.TotalMilliseconds, fault.Reason, unexpected, Now, ct);
        metrics.JobFinished(fault.Kind == SyncFaultKind.Throttled ? "throttled" : "retrying");
    }

    private async Task ImportAsync(JobRecord job, BindingRecord binding, Turn turn, CancellationToken ct)
    {
        var admin = await bindings.FindAdminAccountAsync(EmailAddress.Normalize(binding.AdminAccount), ct)
                    ?? throw new ExchangeConnectorException(ExchangeFailureKind.Permanent, "the admin account is no longer registered");
        if (!AdminAccounts.TryParseConnector(admin.Connector, out var kind) ||
            services.GetKeyedService<IExchangeConnector>(kind) is not { } connector)
            // A deployment without this connector may gain it on an upgrade: keep the binding waiting, not failed.
            throw new ExchangeConnectorException(ExchangeFailureKind.Transient, $"connector '{admin.Connector}' is not available");
        var account = AdminAccounts.ToConnectorAccount(admin, protector);
        var ews = kind == ExchangeConnectorKind.Ews;
        var mailbox = new Mailbox(connections.Through(account, connector), account, binding.ExchangeAccount,
            ews ? _options.EwsBatchesInFlightPerMailbox : 1, WidensIntoSpareConnections: ews);
        var status = BindingStatusWire.FromWire(binding.Status);

        // Folders are listed on every run (one call, two on EWS): a folder made, renamed or deleted in Exchange since the
        // last run is a calendar added, renamed or removed before any folder is synced.
        var owned = await calendars.ListForBindingAsync(job.BindingKey, ct);
        var folders = await mailbox.Exchange.ListCalendarFoldersAsync(account, mailbox.Address, ct);
        var firstListing = status is BindingStatus.Doing or BindingStatus.Err;
        if (firstListing || !SameFolders(owned, folders))
        {
            var next = firstListing ? BindingStatus.CalDone.ToWire() : null;
            if (!await calendars.SaveFoldersAsync(job.BindingKey, binding.TenantKey, binding.UserId, folders, next, Now, ct))
                throw new BindingGoneException();
            if (firstListing) status = BindingStatus.CalDone;
            owned = await calendars.ListForBindingAsync(job.BindingKey, ct);
        }

        if (status == BindingStatus.CalDone)
        {
            var now = clock.GetUtcNow();
            var (from, to) = (now.AddDays(-_options.WindowDaysBack), now.AddDays(_options.WindowDaysAhead));
            foreach (var calendar in owned.Where(c => !c.WindowDone))
                await OneFolderAsync(binding, calendar, () => ImportWindowAsync(job, mailbox, calendar, from, to, turn, ct), ct);
            await SetStatusAsync(job, BindingStatus.TimespanDone);
            status = BindingStatus.TimespanDone;
        }

        foreach (var calendar in owned)
            await OneFolderAsync(binding, calendar, () => SyncAsync(job, mailbox, calendar, turn, ct), ct);
        if (status == BindingStatus.TimespanDone) await SetStatusAsync(job, BindingStatus.Done);

        async Task SetStatusAsync(JobRecord j, BindingStatus next)
        {
            if (!await calendars.SetBindingStatusAsync(j.BindingKey, next.ToWire(), null, Now, ct)) throw new BindingGoneException();
            LogStatus(logger, binding.Id, next.ToWire());
        }
    }

    private static bool SameFolders(IReadOnlyList<CalendarRecord> owned, IReadOnlyList<ExchangeCalendarFolder> folders) =>
        owned.Count == folders.Count &&
        folders.All(f => owned.Any(c => c.ExchangeFolderId == f.FolderId && c.Summary == f.DisplayName));

    /// <summary>
    /// One folder's step. What only this folder met — it vanished since the listing (ErrorFolderNotFound, Graph's 404), or
    /// Exchange refused this folder alone — is recorded on its calendar and the other folders go on; the next run's listing
    /// removes a vanished folder. Faults of the mailbox or the connection end the run as before.
    /// </summary>
    private async Task OneFolderAsync(BindingRecord binding, CalendarRecord calendar, Func<Task> step, CancellationToken ct)
    {
        try
        {
            await step();
        }
        catch (ExchangeConnectorException e) when (e.Kind is ExchangeFailureKind.NotFound or ExchangeFailureKind.Permanent)
        {
            LogFolderFault(logger, binding.Id, calendar.CalendarId, e.Message);
            await calendars.RecordFolderFaultAsync(calendar.Id, $"{e.Kind}: {e.Message}", Now, ct);
        }
    }

    // Both loops keep the next page's fetch in flight while the current page is written: Exchange and the database work
    // side by side instead of in turn. Pages are still applied one at a time and in order, each with its progress. A run
    // whose turn is over fetches no next page: it applies the one it holds and ends there.

    private async Task ImportWindowAsync(JobRecord job, Mailbox mailbox, CalendarRecord calendar, DateTimeOffset from, DateTimeOffset to,
        Turn turn, CancellationToken ct)
    {
        using var prefetch = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pending = FetchAsync(calendar.WindowOffset ?? 0);
        try
        {
            while (pending is not null)
            {
                var (page, rows) = await pending;
                var turnOver = page.NextOffset is not null && await turn.IsOverAsync(ct);
                pending = page.NextOffset is { } next && !turnOver ? FetchAsync(next) : null;
                var progress = page.NextOffset is { } offset ? new CalendarProgress(WindowOffset: offset) : new CalendarProgress(WindowDone: true);
                await ApplyAsync(job, calendar, rows, [], [], progress, ct);
                if (turnOver) throw new TurnOverException();
            }
        }
        finally
        {
            await AbandonAsync(pending, prefetch);
        }

        async Task<(WindowPage Page, List<EventRow> Rows)> FetchAsync(int offset)
        {
            var page = await mailbox.Exchange.FindItemsInWindowAsync(mailbox.Account, mailbox.Address, calendar.ExchangeFolderId, from, to, offset,
                _options.PageSize, prefetch.Token);
            return (page, await FetchChangedAsync(mailbox, calendar, page.Items, prefetch.Token));
        }
    }

    private async Task SyncAsync(JobRecord job, Mailbox mailbox, CalendarRecord calendar, Turn turn, CancellationToken ct)
    {
        using var prefetch = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var state = calendar.SyncState;
        // A pass from no state lists every item but reports no deletion: what it does not list is removed at its end
        // (a folder's first pass, a forgotten state, a switch of connector, whose states the other does not accept).
        var resyncing = calendar.Resyncing;
        var startResync = state is null && !resyncing;
        var pending = FetchAsync(state);
        try
        {
            while (pending is not null)
            {
                SyncPage page;
                List<EventRow> rows;
                try
                {
                    (page, rows) = await pending;
                }
                catch (ExchangeConnectorException e) when (e.Kind == ExchangeFailureKind.InvalidSyncState && state is not null)
                {
                    // The server forgot our state: start over. Unchanged items are recognised by their change keys, not fetched.
                    await ApplyAsync(job, calendar, [], [], [], new CalendarProgress(ClearSyncState: true, StartResync: true), ct);
                    (state, resyncing, startResync) = (null, true, false);
                    pending = FetchAsync(state);
                    continue;
                }
                // Some servers hand back the same state with more to come; stop rather than spin (exchangelib does the same).
                var last = page.IncludesLastItemInRange || page.SyncState == state;
                var turnOver = !last && await turn.IsOverAsync(ct);
                pending = last || turnOver ? null : FetchAsync(page.SyncState);
                resyncing |= startResync;
                await ApplyAsync(job, calendar, rows, page.DeletedItemIds, resyncing ? page.CreatedOrUpdated.Select(i => i.ItemId).ToList() : [],
                    new CalendarProgress(SyncState: page.SyncState, HistoryDone: page.IncludesLastItemInRange ? true : null,
                        StartResync: startResync, EndResync: resyncing && page.IncludesLastItemInRange), ct);
                startResync = false;
                state = page.SyncState;
                if (turnOver) throw new TurnOverException();
            }
        }
        finally
        {
            await AbandonAsync(pending, prefetch);
        }

        async Task<(SyncPage Page, List<EventRow> Rows)> FetchAsync(string? from)
        {
            var page = await mailbox.Exchange.SyncFolderAsync(mailbox.Account, mailbox.Address, calendar.ExchangeFolderId, from, _options.PageSize,
                prefetch.Token);
            return (page, await FetchChangedAsync(mailbox, calendar, page.CreatedOrUpdated, prefetch.Token));
        }
    }

    /// <summary>A loop left early (failure, unbind, shutdown) cancels its prefetch and waits for it, so nothing runs on unobserved.</summary>
    private static async Task AbandonAsync(Task? pending, CancellationTokenSource prefetch)
    {
        if (pending is null) return;
        await prefetch.CancelAsync();
        try
        {
            await pending;
        }
        catch (Exception)
        {
            // Its page will be fetched again by whoever resumes the job.
        }
    }

    /// <summary>
    /// Fetches, in batches, the listed items whose change key differs from what is stored: up to the mailbox's
    /// <see cref="Mailbox.BatchesInFlight"/> batches at once, each holding one of its admin account's connections, and
    /// the rows put together in the listing's order, as one batch after another would give them. A stored series keeps
    /// its event ids: they are what clients hold, whatever form of the item's id they were first derived from.
    /// </summary>
    private async Task<List<EventRow>> FetchChangedAsync(Mailbox mailbox, CalendarRecord calendar, IReadOnlyList<ItemRef> items, CancellationToken ct)
    {
        var stored = await calendars.StoredEventsAsync(calendar.Id, items.Select(i => i.ItemId).ToList(), ct);
        var batches = items.Where(i => !stored.TryGetValue(i.ItemId, out var known) || known.ChangeKey != i.ChangeKey).Select(i => i.ItemId)
            .Chunk(_options.FetchBatchSize).ToArray();
        var fetched = await FetchBatchesAsync(mailbox, batches, ct);
        var rows = new List<EventRow>();
        foreach (var item in fetched.SelectMany(batch => batch))
            rows.AddRange(EventPayloads.ToRows(item, calendar.CalendarId, calendar.UserId, mailbox.Address,
                stored.TryGetValue(item.SeriesMasterId ?? item.ItemId, out var series) ? EventPayloads.SeriesUuidOf(series.EventId) : null));
        return rows;
    }

    /// <summary>
    /// The batches' events, in the batches' order: up to <see cref="Mailbox.BatchesInFlight"/> out at once, each waiting
    /// its turn for a connection of the admin account; past those, when the mailbox may, more on connections spare right
    /// now (<see cref="IAdminAccountConnector.TryGetEventsOnSpareConnection"/>), so that a large
    /// mailbox importing alone, or nearly, uses the account's connections the others leave idle. A batch that fails
    /// cancels the rest, which are awaited before the failure is thrown.
    /// </summary>
    private static async Task<IReadOnlyList<ExchangeEvent>[]> FetchBatchesAsync(Mailbox mailbox, string[][] batches, CancellationToken ct)
    {
        var fetched = new IReadOnlyList<ExchangeEvent>[batches.Length];
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Each batch out, and whether it counts against the mailbox's own batches in flight (or holds a spare connection).
        var inFlight = new Dictionary<Task, bool>();
        var own = 0;
        var next = 0;
        try
        {
            while (next < batches.Length || inFlight.Count > 0)
            {
                for (; next < batches.Length; next++)
                {
                    if (own < mailbox.BatchesInFlight)
                    {
                        inFlight.Add(KeepAsync(next, mailbox.Exchange.GetEventsAsync(mailbox.Account, mailbox.Address, batches[next], failed.Token)), true);
                        own++;
                    }
                    else if (mailbox.WidensIntoSpareConnections &&
                             mailbox.Exchange.TryGetEventsOnSpareConnection(mailbox.Account, mailbox.Address, batches[next], failed.Token) is { } spare)
                        inFlight.Add(KeepAsync(next, spare), false);
                    else break;
                }
                var answered = await Task.WhenAny(inFlight.Keys);
                if (inFlight.Remove(answered, out var wasOwn) && wasOwn) own--;
                await answered;
            }
        }
        catch
        {
            await failed.CancelAsync();
            try
            {
                await Task.WhenAll(inFlight.Keys);
            }
            catch (Exception)
            {
                // The first failure is the one thrown; the others are its cancellation or its like.
            }
            throw;
        }
        return fetched;

        async Task KeepAsync(int batch, Task<IReadOnlyList<ExchangeEvent>> call) => fetched[batch] = await call;
    }

    /// <summary>
    /// The bound mailbox as a run reaches it: through its admin account's connections (<see cref="AdminAccountConnections"/>),
    /// with the GetItem batches its connector may have in flight for it at once, and whether it may send more on spare
    /// connections (EWS, whose limit is the account's connections; not Graph, whose limit is 4 requests per mailbox).
    /// </summary>
    private sealed record Mailbox(IAdminAccountConnector Exchange, ExchangeAdminAccount Account, string Address, int BatchesInFlight,
        bool WidensIntoSpareConnections);

    private async Task ApplyAsync(JobRecord job, CalendarRecord calendar, IReadOnlyList<EventRow> rows, IReadOnlyCollection<string> deleted,
        IReadOnlyCollection<string> resyncListed, CalendarProgress progress, CancellationToken ct)
    {
        if (!await calendars.ApplyPageAsync(job.BindingKey, calendar.Id, rows, deleted, resyncListed, progress, Now, ct)) throw new BindingGoneException();
        metrics.EventsImported(rows.Count);
    }

    /// <summary>
    /// Exponential back-off with jitter (±20%, so that bindings failing together do not return together): the base after
    /// the first failure, doubling with each one in a row, never more than <see cref="ImportOptions.MaxRetrySeconds"/>.
    /// </summary>
    private TimeSpan Backoff(int attempts)
    {
        var exponential = _options.RetryBaseMilliseconds * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        return TimeSpan.FromMilliseconds(Math.Min(_options.MaxRetrySeconds * 1000.0, exponential * (0.8 + Random.Shared.NextDouble() * 0.4)));
    }

    /// <summary>The binding was unbound while this worker was busy: stop quietly.</summary>
    private sealed class BindingGoneException : Exception;

    /// <summary>
    /// A run's turn: <see cref="ImportOptions.TurnMilliseconds"/> of real time, as the run's hold on its worker and its
    /// admin account's place is. Once it is over the run asks, between pages and once per turn, whether other jobs are due;
    /// if none are, a new turn starts, so a run alone never stops.
    /// </summary>
    private sealed class Turn(JobStore jobs, JobRecord job, TimeSpan length, Func<long> now)
    {
        private long _started = Stopwatch.GetTimestamp();

        public async ValueTask<bool> IsOverAsync(CancellationToken ct)
        {
            if (Stopwatch.GetElapsedTime(_started) < length) return false;
            if (await jobs.OthersDueAsync(job, now(), ct)) return true;
            _started = Stopwatch.GetTimestamp();
            return false;
        }
    }

    /// <summary>The run's turn is over with work left: it has applied its last page and queues again (<see cref="JobStore.EndTurnAsync"/>).</summary>
    private sealed class TurnOverException : Exception;

    [LoggerMessage(Level = LogLevel.Information, Message = "Binding key {BindingKey} is now {Status}")]
    private static partial void LogStatus(ILogger logger, long bindingKey, string status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binding key {BindingKey} calendar {CalendarId} failed alone ({Reason}); its other calendars go on")]
    private static partial void LogFolderFault(ILogger logger, long bindingKey, string calendarId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed what binding key {BindingKey} imported")]
    private static partial void LogUnbound(ILogger logger, long bindingKey);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Exchange refused binding key {BindingKey}'s admin account for concurrency; its jobs are limited to {Limit} at once for now")]
    private static partial void LogAdminAccountLimited(ILogger logger, long bindingKey, int limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Binding key {BindingKey} attempt {Attempt} failed ({Reason}); retrying in {WaitMs} ms")]
    private static partial void LogRetrying(ILogger logger, long bindingKey, int attempt, double waitMs, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Binding key {BindingKey}: unexpected failure {Failures} in a row")]
    private static partial void LogUnexpected(ILogger logger, long bindingKey, int failures, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Binding key {BindingKey} is err: {Reason}")]
    private static partial void LogFailed(ILogger logger, long bindingKey, string reason);
}
