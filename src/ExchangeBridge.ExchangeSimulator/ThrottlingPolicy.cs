namespace ExchangeBridge.ExchangeSimulator;

/// <summary>
/// Exchange's throttling as Microsoft documents it, for <see cref="MailboxStore.EnforceThrottling"/> (the README's
/// "Throttling" names the pages each figure comes from). EWS: concurrent requests per calling account
/// (<c>EWSMaxConcurrency</c>, answered <c>ErrorExceededConnectionCount</c>) and a budget of server time per mailbox
/// (<c>EwsMaxBurst</c>, <c>EwsRechargeRate</c>; answered <c>ErrorServerBusy</c> with <c>BackOffMilliseconds</c>). Graph
/// (Outlook service limits): concurrent requests and requests per window, each per app and mailbox, answered 429 with
/// <c>Retry-After</c>. Every figure can be changed; <see cref="WithTimeScaledDownBy"/> keeps the limits and shortens time.
/// </summary>
public sealed record ThrottlingPolicy
{
    /// <summary>EWSMaxConcurrency: requests one account may have open at once; 27 in Exchange 2013 and Exchange Online.</summary>
    public int EwsMaxConcurrency { get; init; } = 27;

    /// <summary>EwsMaxBurst: the server time a mailbox's budget holds when full (300,000 ms in the default policy).</summary>
    public TimeSpan EwsMaxBurst { get; init; } = TimeSpan.FromMilliseconds(300_000);

    /// <summary>EwsRechargeRate: the server time a budget regains per hour (900,000 ms in the default policy).</summary>
    public TimeSpan EwsRechargePerHour { get; init; } = TimeSpan.FromMilliseconds(900_000);

    /// <summary>
    /// What one request costs a budget. Exchange charges the time it spent on the request, which Microsoft does not
    /// publish and the simulator's own time says nothing about: an assumption (a page of FindItem or GetItem of our sizes).
    /// </summary>
    public TimeSpan EwsChargePerRequest { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Outlook service limits: 4 concurrent requests per app and mailbox.</summary>
    public int GraphMaxConcurrencyPerMailbox { get; init; } = 4;

    /// <summary>Outlook service limits: 10,000 API requests in a 10-minute period per app and mailbox.</summary>
    public int GraphRequestsPerWindow { get; init; } = 10_000;

    public TimeSpan GraphWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The Retry-After of a request over the concurrency limit. Graph documents that a 429 carries one, not its value for
    /// this limit; a request in flight ends within a second here.
    /// </summary>
    public TimeSpan GraphConcurrencyRetryAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long Exchange works on an EWS request of each operation before it answers, holding the request's connection
    /// meanwhile (by operation name; an operation not named answers at once). A model, not a measurement: see
    /// <see cref="ModelledEwsServiceTimes"/>. None by default, so that tests stay fast.
    /// </summary>
    public IReadOnlyDictionary<string, TimeSpan> EwsServiceTimes { get; init; } = new Dictionary<string, TimeSpan>();

    /// <summary>How long Graph works on one request (a $batch's parts each) before it answers; none by default.</summary>
    public TimeSpan GraphServiceTime { get; init; }

    /// <summary>
    /// The service times the organisation benchmark assumes (the README's "Service time" gives the reasoning): Microsoft
    /// publishes none. A GetItem of a batch of up to 50 calendar items with their bodies and attendees reads each item
    /// from the store: 300 ms; a page of FindItem or SyncFolderItems (ids and change keys only, from an index): 150 ms;
    /// a folder's GetFolder or FindFolder: 50 ms.
    /// </summary>
    public static IReadOnlyDictionary<string, TimeSpan> ModelledEwsServiceTimes { get; } = new Dictionary<string, TimeSpan>
    {
        ["GetItem"] = TimeSpan.FromMilliseconds(300), ["FindItem"] = TimeSpan.FromMilliseconds(150),
        ["SyncFolderItems"] = TimeSpan.FromMilliseconds(150), ["GetFolder"] = TimeSpan.FromMilliseconds(50),
        ["FindFolder"] = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>Graph's counterpart of <see cref="ModelledEwsServiceTimes"/>: 150 ms a request (a delta page, or one GET of a $batch).</summary>
    public static TimeSpan ModelledGraphServiceTime { get; } = TimeSpan.FromMilliseconds(150);

    /// <summary>These limits, with Exchange taking <see cref="ModelledEwsServiceTimes"/> and <see cref="ModelledGraphServiceTime"/> to answer.</summary>
    public ThrottlingPolicy WithModelledServiceTimes() =>
        this with { EwsServiceTimes = ModelledEwsServiceTimes, GraphServiceTime = ModelledGraphServiceTime };

    /// <summary>The figures above, as documented.</summary>
    public static ThrottlingPolicy Documented { get; } = new();

    /// <summary>No limits: what a new <see cref="MailboxStore"/> enforces (its injected busy answers aside).</summary>
    public static ThrottlingPolicy Unlimited { get; } = new()
    {
        EwsMaxConcurrency = int.MaxValue, EwsChargePerRequest = TimeSpan.Zero,
        GraphMaxConcurrencyPerMailbox = int.MaxValue, GraphRequestsPerWindow = int.MaxValue,
    };

    /// <summary>
    /// The same limits with time running <paramref name="factor"/> times faster: budgets recharge that much sooner and
    /// Graph's window is that much shorter, and Exchange answers that much sooner (a benchmark that cannot wait ten
    /// minutes per window says so when it uses this).
    /// </summary>
    public ThrottlingPolicy WithTimeScaledDownBy(double factor)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(factor);
        return this with
        {
            EwsRechargePerHour = EwsRechargePerHour * factor, GraphWindow = GraphWindow / factor,
            EwsServiceTimes = EwsServiceTimes.ToDictionary(t => t.Key, t => t.Value / factor), GraphServiceTime = GraphServiceTime / factor,
        };
    }
}

/// <summary>What the throttling let through and refused so far, for benchmarks that report how much of the budget they used.</summary>
/// <param name="Admitted">Requests within every limit.</param>
/// <param name="RefusedForConcurrency">Requests over a concurrency limit (EWS ErrorExceededConnectionCount, Graph 429 MailboxConcurrency).</param>
/// <param name="RefusedForBudget">Requests over a budget (EWS ErrorServerBusy, Graph 429 TooManyRequests).</param>
/// <param name="BusySeconds">The sum over admitted requests of the time each held its concurrency slot.</param>
/// <param name="PeakConcurrency">The most admitted requests open at once under one concurrency limit (one EWS calling account, one Graph app and mailbox).</param>
public readonly record struct ThrottlingCounters(long Admitted, long RefusedForConcurrency, long RefusedForBudget, double BusySeconds, int PeakConcurrency);
