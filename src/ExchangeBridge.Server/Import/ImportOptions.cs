using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Import;

/// <summary>Settings under "ExchangeBridge:Import".</summary>
public sealed class ImportOptions
{
    public const string Section = "ExchangeBridge:Import";

    /// <summary>The recent window imported first (status timespan_done when it is in).</summary>
    public int WindowDaysBack { get; set; } = 30;
    public int WindowDaysAhead { get; set; } = 365;

    /// <summary>How often a done binding is synced incrementally.</summary>
    public int SyncIntervalSeconds { get; set; } = 300;

    /// <summary>
    /// Jobs run at once by this instance. A job spends its time waiting on Exchange and the database, not on a core, so
    /// there are enough workers to keep an admin account at its ceiling below; each costs a few MB while it runs.
    /// </summary>
    public int Workers { get; set; } = 40;

    /// <summary>
    /// Jobs of one tenant running at once on this instance: one tenant whose Exchange hangs holds at most this many of
    /// its workers, and the other tenants' jobs keep moving on the rest. Per instance because workers are: what Exchange
    /// admits, counted over every instance, is the admin account's limit below. Above an EWS account's ceiling, so that a
    /// company binding through one admin account can reach it on one instance; a quarter of the workers stay for others.
    /// </summary>
    public int MaxJobsPerTenant { get; set; } = 30;

    /// <summary>
    /// The most jobs of one admin account running at once, over every instance, by connector. EWS: Exchange lets one
    /// account hold 27 connections (EWSMaxConcurrency, Exchange 2013 on and Exchange Online) and a job asking Exchange
    /// holds at least one; 25 leaves two for the admin's other clients. The connections themselves are counted below,
    /// per instance; this cap, in the database, is what several instances follow together, and what Exchange's refusals
    /// lower. Graph: the limits are per app and mailbox (4 concurrent requests), and each job is one mailbox, so jobs of
    /// one app may run far wider.
    /// </summary>
    public int MaxJobsPerEwsAdminAccount { get; set; } = 25;
    public int MaxJobsPerGraphAdminAccount { get; set; } = 64;

    /// <summary>
    /// The most requests in flight to Exchange through one admin account from this instance, by connector
    /// (<see cref="AdminAccountConnections"/>): each request holds a connection while it is out, whichever job sent it.
    /// EWS: 25 of the account's 27 (EWSMaxConcurrency), as the jobs above. Per instance: where several instances import
    /// through one admin account, give each its share (25 / instances), or their requests together may pass Exchange's
    /// figure when their jobs fetch several batches at once. Graph: its limits are per app and mailbox, as the jobs'.
    /// </summary>
    public int MaxConnectionsPerEwsAdminAccount { get; set; } = 25;
    public int MaxConnectionsPerGraphAdminAccount { get; set; } = 64;

    /// <summary>
    /// GetItem batches one EWS job keeps in flight for one page: a large mailbox's page of <see cref="PageSize"/> items is
    /// fetched as several batches at once (each holding a connection of its admin account) instead of one after another,
    /// so that it no longer imports at one request's pace long after the others are done. These wait their turn for a
    /// connection; past them a job sends more only on connections spare right now
    /// (<see cref="IAdminAccountConnector.TryGetEventsOnSpareConnection"/>). Graph's batches stay one at a
    /// time: one $batch of 20 already reaches the 4 concurrent requests Outlook allows per app and mailbox
    /// (GraphConnector.BatchesInFlight).
    /// </summary>
    public int EwsBatchesInFlightPerMailbox { get; set; } = 4;

    /// <summary>
    /// When Exchange refuses an admin account for concurrency, its limit drops to half the jobs it was running, and grows
    /// back by one job per this interval since (additive increase, multiplicative decrease, as TCP's congestion window).
    /// </summary>
    public int AdminAccountGrowMilliseconds { get; set; } = 2000;

    /// <summary>The limits a claim follows, as one value: its users take it once, when they start, not once per claim.</summary>
    public ClaimLimits ClaimLimits => new(MaxJobsPerTenant, MaxJobsPerEwsAdminAccount, MaxJobsPerGraphAdminAccount, AdminAccountGrowMilliseconds);

    /// <summary>
    /// How long a run holds its worker and its admin account's place before it hands them back, if other jobs are due: it
    /// ends its turn after the page it is on and queues again behind them, and claims take the jobs with the fewest turns
    /// first (<see cref="JobStore.EndTurnAsync"/>). Without turns a company's small mailboxes waited for the large ones
    /// bound before them to run to their end, 30 s to 4 min for a mailbox of ten items (organisation benchmark). Each turn
    /// costs a claim and a folder listing; a run alone never ends its turn.
    /// </summary>
    public int TurnMilliseconds { get; set; } = 2000;

    /// <summary>
    /// How long one request to Exchange (EWS or Graph, the token endpoint included) may take. EWS and Graph answer a
    /// page in well under a second; a server that has not answered in this long is hanging, and the attempt is a
    /// transient fault. Shorter than the lease, so that a hanging request never outlives its job's lease.
    /// </summary>
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>How long a claimed job stays leased without a sign of life; a dead worker's job is retaken after it.</summary>
    public int LeaseSeconds { get; set; } = 60;

    /// <summary>Idle workers look for due jobs this often (a new binding wakes them at once).</summary>
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>
    /// Back-off after a transient fault: about <see cref="RetryBaseMilliseconds"/> doubled with each failure in a row,
    /// with jitter, never longer than <see cref="MaxRetrySeconds"/>. Transient faults never end a binding.
    /// </summary>
    public int RetryBaseMilliseconds { get; set; } = 2000;
    public int MaxRetrySeconds { get; set; } = 1800;

    /// <summary>Unexpected failures (a bug, a master key that no longer decrypts the credentials) in a row before the binding shows err.</summary>
    public int UnexpectedFailuresBeforeErr { get; set; } = 5;

    /// <summary>How often a binding in err is tried again on its own (it is also tried at once when its cause may be fixed).</summary>
    public int ErrRetrySeconds { get; set; } = 3600;

    /// <summary>
    /// Items listed per FindItem / SyncFolderItems page (Graph: up to its own page size). 512, the most EWS lists at once:
    /// each page costs a listing round trip before its items can be fetched, and a large mailbox left alone fetches a page's
    /// batches on the account's spare connections in one round (organisation benchmark, 300 mailboxes: 88 → 74 s until
    /// all done, bench/results/latest.md 2026-12-07T11:45Z).
    /// </summary>
    public int PageSize { get; set; } = 512;
    /// <summary>Items fetched per GetItem call.</summary>
    public int FetchBatchSize { get; set; } = 50;

    public void Validate()
    {
        if (WindowDaysBack < 0 || WindowDaysAhead < 0) throw new InvalidOperationException("ExchangeBridge:Import window days must not be negative.");
        if (SyncIntervalSeconds < 1) throw new InvalidOperationException("ExchangeBridge:Import:SyncIntervalSeconds must be positive.");
        if (Workers < 0) throw new InvalidOperationException("ExchangeBridge:Import:Workers must not be negative (0 disables the worker).");
        if (LeaseSeconds < 5) throw new InvalidOperationException("ExchangeBridge:Import:LeaseSeconds must be at least 5.");
        if (PageSize is < 1 or > 512) throw new InvalidOperationException("ExchangeBridge:Import:PageSize must be 1..512 (EWS returns at most 512 changes).");
        if (FetchBatchSize is < 1 or > 100) throw new InvalidOperationException("ExchangeBridge:Import:FetchBatchSize must be 1..100.");
        if (MaxJobsPerTenant < 1 || MaxJobsPerEwsAdminAccount < 1 || MaxJobsPerGraphAdminAccount < 1 || AdminAccountGrowMilliseconds < 1)
            throw new InvalidOperationException(
                "ExchangeBridge:Import:MaxJobsPerTenant, MaxJobsPerEwsAdminAccount, MaxJobsPerGraphAdminAccount and AdminAccountGrowMilliseconds must be positive.");
        if (MaxConnectionsPerEwsAdminAccount < 1 || MaxConnectionsPerGraphAdminAccount < 1)
            throw new InvalidOperationException("ExchangeBridge:Import:MaxConnectionsPerEwsAdminAccount and MaxConnectionsPerGraphAdminAccount must be positive.");
        if (EwsBatchesInFlightPerMailbox is < 1 or > 16)
            throw new InvalidOperationException("ExchangeBridge:Import:EwsBatchesInFlightPerMailbox must be 1..16.");
        if (RequestTimeoutSeconds < 1 || RequestTimeoutSeconds >= LeaseSeconds)
            throw new InvalidOperationException("ExchangeBridge:Import:RequestTimeoutSeconds must be positive and shorter than LeaseSeconds.");
        if (RetryBaseMilliseconds < 1 || MaxRetrySeconds < 1 || ErrRetrySeconds < 1)
            throw new InvalidOperationException("ExchangeBridge:Import:RetryBaseMilliseconds, MaxRetrySeconds and ErrRetrySeconds must be positive.");
        if (TurnMilliseconds < 0) throw new InvalidOperationException("ExchangeBridge:Import:TurnMilliseconds must not be negative.");
        if (UnexpectedFailuresBeforeErr < 1) throw new InvalidOperationException("ExchangeBridge:Import:UnexpectedFailuresBeforeErr must be positive.");
    }
}
