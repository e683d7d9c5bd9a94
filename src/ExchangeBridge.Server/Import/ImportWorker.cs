using ExchangeBridge.Server.Storage;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Import;

/// <summary>
/// The background worker: a few loops that lease due jobs from the database and run them. A loop that found a job wakes
/// one idle loop to look for the next, so a burst of new jobs is taken up one claim after another rather than by every
/// idle loop at once; of the idle loops, one looks again every <see cref="ImportOptions.PollMilliseconds"/> (for jobs
/// that fall due, and for slots freed on other instances) and the others sleep until woken, by it or by
/// <see cref="Wake"/> when a job was enqueued here.
/// While a job runs, its lease is renewed every third of <see cref="ImportOptions.LeaseSeconds"/> whatever the job is
/// doing, so that a slow page (Exchange slow to answer, the database busy) never lets the lease run out under a worker
/// that is alive; a renewal that finds the lease taken stops the run.
/// </summary>
public sealed partial class ImportWorker(
    JobStore jobs, ImportEngine engine, AdminAccountConnections connections, TimeProvider clock, IOptions<ImportOptions> options, IConfiguration configuration,
    ILogger<ImportWorker> logger)
    : BackgroundService
{
    /// <summary>The one cap per admin account before issue 19; split by connector since, and no longer read.</summary>
    private const string RemovedPerAdminAccountCap = ImportOptions.Section + ":MaxJobsPerAdminAccount";

    private readonly ImportOptions _options = options.Value;
    private readonly ClaimLimits _limits = options.Value.ClaimLimits;
    private readonly string _owner = $"{Environment.ProcessId}:{Guid.NewGuid():N}@{Environment.MachineName}";
    private readonly SemaphoreSlim _wake = new(0);
    private int _polling;

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A job was enqueued here: one idle loop looks for it (and, finding it, wakes the next).</summary>
    public void Wake()
    {
        // One pending wake is enough: the loop it wakes passes it on while it finds work.
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // An operator who still sets the old cap would otherwise see it silently ignored.
        if (configuration[RemovedPerAdminAccountCap] is not null) LogRemovedSetting(logger, RemovedPerAdminAccountCap);
        return Task.WhenAll(Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(() => LoopAsync(stoppingToken), stoppingToken)));
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var job = await jobs.TryClaimAsync(_owner, Now, _options.LeaseSeconds * 1000L, _limits, connections.Saturated, ct);
                if (job is null)
                {
                    await IdleAsync(ct);
                    continue;
                }
                Wake();
                LogClaimed(logger, job.Id, job.BindingKey, job.Attempts);
                await RunLeasedAsync(job, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A fault outside a job's own handling (the database, say): the job's lease runs out and it is retried.
                LogLoopFault(logger, e);
                await Task.Delay(TimeSpan.FromMilliseconds(_options.PollMilliseconds), clock, ct).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    /// <summary>Nothing to claim: the one polling loop waits for its next look, the others until they are woken.</summary>
    private async Task IdleAsync(CancellationToken ct)
    {
        if (Interlocked.CompareExchange(ref _polling, 1, 0) != 0)
        {
            await _wake.WaitAsync(ct);
            return;
        }
        try
        {
            await _wake.WaitAsync(_options.PollMilliseconds, ct);
        }
        finally
        {
            Volatile.Write(ref _polling, 0);
        }
    }

    private async Task RunLeasedAsync(JobRecord job, CancellationToken ct)
    {
        using var leaseHeld = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var stopRenewing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var renewing = KeepLeaseAsync(job, leaseHeld, stopRenewing.Token);
        try
        {
            await engine.RunAsync(job, leaseHeld.Token);
        }
        catch (OperationCanceledException) when (leaseHeld.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // Another claim holds the job now and runs it from its last committed page.
        }
        finally
        {
            await stopRenewing.CancelAsync();
            await renewing;
        }
    }

    private async Task KeepLeaseAsync(JobRecord job, CancellationTokenSource leaseHeld, CancellationToken stop)
    {
        var every = TimeSpan.FromSeconds(_options.LeaseSeconds / 3.0);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, clock, stop);
                if (await jobs.RenewAsync(job, Now, _options.LeaseSeconds * 1000L, stop)) continue;
                // Not renewed after the run ended: the run released the lease itself.
                if (stop.IsCancellationRequested) return;
                if (await jobs.IsCancelledAsync(job, stop)) LogUnboundDuringRun(logger, job.Id, job.BindingKey);
                else LogLeaseLost(logger, job.Id, job.BindingKey);
                await leaseHeld.CancelAsync();
                return;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database did not answer this once: the lease has two more renewals' time left.
                LogRenewFault(logger, job.Id, e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Claimed job {JobId} of binding key {BindingKey}, attempt {Attempt}")]
    private static partial void LogClaimed(ILogger logger, long jobId, long bindingKey, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} of binding key {BindingKey} lost its lease (claimed again); this run stops")]
    private static partial void LogLeaseLost(ILogger logger, long jobId, long bindingKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Binding key {BindingKey} was unbound while job {JobId} imported it; this run stops")]
    private static partial void LogUnboundDuringRun(ILogger logger, long jobId, long bindingKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew job {JobId}'s lease this time; trying again")]
    private static partial void LogRenewFault(ILogger logger, long jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Setting} is no longer read: set ExchangeBridge:Import:MaxJobsPerEwsAdminAccount and MaxJobsPerGraphAdminAccount (jobs of one admin account over every instance) and MaxJobsPerTenant (jobs of one tenant on this instance) instead")]
    private static partial void LogRemovedSetting(ILogger logger, string setting);

    [LoggerMessage(Level = LogLevel.Error, Message = "Import worker fault; the job will be retried when its lease runs out")]
    private static partial void LogLoopFault(ILogger logger, Exception exception);
}
