using System.Globalization;

namespace ExchangeBridge.Server.Events;

/// <summary>Settings under "ExchangeBridge:Events": how the outbox is delivered to apps' request URLs, and how long it and the change log are kept.</summary>
public sealed class EventOptions
{
    public const string Section = "ExchangeBridge:Events";

    /// <summary>Deliveries sent at once by this instance (each to another calendar or app: one order key is sent one at a time).</summary>
    public int Concurrency { get; set; } = 8;

    /// <summary>How often an idle sender looks for due deliveries.</summary>
    public int PollMilliseconds { get; set; } = 250;

    /// <summary>How long a claimed delivery is this instance's; a dead instance's claim is retaken after it.</summary>
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>The platform counts an answer that is not HTTP 200 within 3 seconds as a failed push.</summary>
    public int RequestTimeoutSeconds { get; set; } = 3;

    /// <summary>
    /// Seconds before each retry of a failed push, comma-separated: the platform's schedule, 15 s, 5 min, 1 h and 6 h,
    /// after which it gives up (the delivery is then failed, and the app reads what it missed with a sync_token).
    /// </summary>
    public string RetryScheduleSeconds { get; set; } = "15,300,3600,21600";

    /// <summary>
    /// Hours a delivered or failed delivery stays listed for the operator before it is deleted; pending ones are never
    /// deleted. Without it the outbox would grow by one row per event for ever.
    /// </summary>
    public int RetentionHours { get; set; } = 168;

    /// <summary>
    /// Days the change log that sync tokens read is kept. A sync_token older than that is answered 190008 (expired) and
    /// the client lists in full again, as it does on the platform.
    /// </summary>
    public int ChangeRetentionDays { get; set; } = 30;

    public IReadOnlyList<int> RetrySchedule() =>
        RetryScheduleSeconds.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture)).ToList();

    public void Validate()
    {
        if (Concurrency < 0) throw new InvalidOperationException("ExchangeBridge:Events:Concurrency must not be negative (0 sends nothing).");
        if (PollMilliseconds < 1) throw new InvalidOperationException("ExchangeBridge:Events:PollMilliseconds must be positive.");
        if (RetentionHours < 1) throw new InvalidOperationException("ExchangeBridge:Events:RetentionHours must be at least 1.");
        if (ChangeRetentionDays < 1) throw new InvalidOperationException("ExchangeBridge:Events:ChangeRetentionDays must be at least 1.");
        if (RequestTimeoutSeconds < 1 || LeaseSeconds <= RequestTimeoutSeconds)
            throw new InvalidOperationException("ExchangeBridge:Events:LeaseSeconds must be longer than RequestTimeoutSeconds (at least 1).");
        try
        {
            if (RetrySchedule().Any(s => s < 0)) throw new FormatException();
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new InvalidOperationException("ExchangeBridge:Events:RetryScheduleSeconds must be comma-separated whole seconds.", e);
        }
    }
}
