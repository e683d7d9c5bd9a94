using ExchangeBridge.Server.Identity;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Events;

/// <summary>
/// Sends the outbox: claims due deliveries (each the head of its order key), pushes them at once, and records each
/// outcome while it still holds the claim. A delivery sent but not recorded (the process killed in between) is sent
/// again, with the same event_id, once its claim runs out: apps see each event at least once and drop what they saw by
/// its event_id, as the platform asks of them.
/// </summary>
public sealed partial class EventDeliveryWorker(
    EventDeliveryStore deliveries, ChangeLogRetention changeLog, EventSender sender, SecretProtector protector, TimeProvider clock,
    IOptions<EventOptions> options, ILogger<EventDeliveryWorker> logger) : BackgroundService
{
    private readonly EventOptions _options = options.Value;
    private readonly IReadOnlyList<int> _retrySchedule = options.Value.RetrySchedule();
    private readonly string _owner = $"{Environment.ProcessId}:{Guid.NewGuid():N}@{Environment.MachineName}";
    private long? _lastPruneAt;

    /// <summary>How often an idle sender deletes settled deliveries past their retention, and how many at a time.</summary>
    private const long PruneEveryMs = 60_000;
    private const int PruneBatch = 1_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Concurrency 0 sends nothing from this instance; it still keeps the outbox and the log to their retention.
                var claimed = _options.Concurrency == 0 ? []
                    : await deliveries.ClaimAsync(_owner, Now, _options.LeaseSeconds * 1000L, _options.Concurrency, stoppingToken);
                if (claimed.Count == 0)
                {
                    await PruneWhenDueAsync(stoppingToken);
                    await Task.Delay(_options.PollMilliseconds, stoppingToken);
                    continue;
                }
                await Task.WhenAll(claimed.Select(d => DeliverAsync(d, stoppingToken)));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database, say: what was claimed is retaken when its claim runs out.
                LogLoopFault(logger, e);
                await Task.Delay(_options.PollMilliseconds, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Once a minute, while idle: deletes delivered and failed deliveries older than their retention, and changes older
    /// than the change log's, a batch at a time (every instance may do it; a row deleted twice is deleted once).
    /// </summary>
    private async Task PruneWhenDueAsync(CancellationToken ct)
    {
        var now = Now;
        // A clock set back (by hand, or by NTP) prunes at once rather than waiting for the time it had reached.
        if (_lastPruneAt is { } last && now >= last && now - last < PruneEveryMs) return;
        await PruneAsync(deliveries.DeleteSettledBeforeAsync, now - _options.RetentionHours * 3_600_000L, ct);
        await PruneAsync(changeLog.PruneBeforeAsync, now - _options.ChangeRetentionDays * 86_400_000L, ct);
        _lastPruneAt = now;
    }

    private static async Task PruneAsync(Func<long, int, CancellationToken, Task<int>> pruneBatch, long cutoff, CancellationToken ct)
    {
        while (await pruneBatch(cutoff, PruneBatch, ct) == PruneBatch && !ct.IsCancellationRequested) { }
    }

    private async Task DeliverAsync(ClaimedDelivery delivery, CancellationToken ct)
    {
        var outcome = delivery.RequestUrl.Length == 0
            ? new PushOutcome(false, "the app has no request URL any more")
            : await sender.PushAsync(delivery.RequestUrl, EventEnvelope.Schema2(delivery),
                delivery.EncryptKeyProtected is { } key ? protector.Unprotect(key) : null, ct);
        if (outcome.Accepted)
        {
            await deliveries.DeliveredAsync(delivery, _owner, Now, ct);
            return;
        }
        // Attempts counts this one: the first failure waits the schedule's first delay, and so on until none is left.
        var retryAt = delivery.Attempts <= _retrySchedule.Count ? Now + _retrySchedule[delivery.Attempts - 1] * 1000L : (long?)null;
        LogFailed(logger, delivery.EventId, delivery.AppId, delivery.Attempts, outcome.Failure ?? "", retryAt is not null);
        await deliveries.AttemptFailedAsync(delivery, _owner, retryAt, outcome.Failure ?? "refused", Now, ct);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Event delivery fault; claimed deliveries are retaken when their claim runs out")]
    private static partial void LogLoopFault(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} to app {AppId}: attempt {Attempt} failed ({Failure}); retried: {Retried}")]
    private static partial void LogFailed(ILogger logger, string eventId, string appId, int attempt, string failure, bool retried);
}
