using ExchangeBridge.Server.Storage;

namespace ExchangeBridge.Server.Identity;

/// <summary>
/// Deletes expired tokens and authorization codes every minute, so the tables hold only live credentials, and drops
/// the token service's cache entries past their time.
/// </summary>
public sealed partial class ExpiredTokenSweeper(IdentityStore store, TokenService tokens, TimeProvider clock, ILogger<ExpiredTokenSweeper> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await NextTickAsync(timer, stoppingToken))
        {
            tokens.ForgetExpired();
            try
            {
                var removed = await store.DeleteExpiredAsync(clock.GetUtcNow().ToUnixTimeMilliseconds(), stoppingToken);
                if (removed > 0) LogSwept(logger, removed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e);
            }
        }
    }

    /// <summary>
    /// False once stopping. Cancellation ends the loop rather than escaping it: a host disposed after a failed start
    /// (a port in use) cancels without stopping first, and reports an escaped cancellation as a crash.
    /// </summary>
    private static async Task<bool> NextTickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} expired tokens and codes")]
    private static partial void LogSwept(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweeping expired tokens failed; next try in a minute")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
