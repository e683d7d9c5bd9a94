using ExchangeBridge.Server.Storage;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Import;

/// <summary>
/// The background worker: a few loops that lease due jobs from the database and run them. Idle loops look again
/// every <see cref="ImportOptions.PollMilliseconds"/>, or at once when <see cref="Wake"/> says a job was enqueued here.
/// </summary>
public sealed partial class ImportWorker(
    JobStore jobs, ImportEngine engine, TimeProvider clock, IOptions<ImportOptions> options, ILogger<ImportWorker> logger)
    : BackgroundService
{
    private readonly ImportOptions _options = options.Value;
    private readonly string _owner = $"{Environment.ProcessId}:{Guid.NewGuid():N}@{Environment.MachineName}";
    private readonly SemaphoreSlim _wake = new(0);

    public void Wake() => _wake.Release(Math.Max(1, _options.Workers));

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.Workers).Select(_ => Task.Run(() => LoopAsync(stoppingToken), stoppingToken)));

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var job = await jobs.TryClaimAsync(_owner, clock.GetUtcNow().ToUnixTimeMilliseconds(), _options.LeaseSeconds * 1000L, _options.ClaimLimits, ct);
                if (job is null)
                {
                    await _wake.WaitAsync(_options.PollMilliseconds, ct);
                    continue;
                }
                await engine.RunAsync(job, ct);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Import worker fault; the job will be retried when its lease runs out")]
    private static partial void LogLoopFault(ILogger logger, Exception exception);
}
