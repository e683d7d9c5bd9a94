using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace ExchangeBridge.Server.RateLimits;

/// <summary>The answer of a rate check: allowed or not, the limit that applied and when its window resets.</summary>
public readonly record struct RateDecision(bool Allowed, int Limit, TimeSpan ResetAfter);

/// <summary>Fixed-window counters: at most <c>limit</c> acquisitions of <c>key</c> per window.</summary>
public interface IRateCounter
{
    ValueTask<RateDecision> TryAcquireAsync(string key, int limit, TimeSpan window, CancellationToken ct);

    /// <summary>Reads without counting: would one more be allowed?</summary>
    ValueTask<RateDecision> PeekAsync(string key, int limit, TimeSpan window, CancellationToken ct);
}

/// <summary>
/// Counters of this instance alone: System.Threading.RateLimiting's fixed-window limiter per key, held by its partitioned
/// limiter, which replenishes them all from one timer and drops a key's limiter once it has sat idle (its window full
/// again) for ten seconds. A limiter per key for good, each with its own replenishing timer, let anyone grow memory and
/// idle CPU without end by naming new keys (an unknown app_id per token request). The shared timer ticks every 100 ms,
/// so a window reopens up to a tick late (a per-second limit admits up to a tenth less than configured).
/// </summary>
public sealed class InProcessRateCounter : IRateCounter, IDisposable
{
    private readonly record struct Window(string Key, int Limit, TimeSpan Length);

    private readonly PartitionedRateLimiter<Window> _limiters = PartitionedRateLimiter.Create<Window, Window>(window =>
        RateLimitPartition.GetFixedWindowLimiter(window, w => new FixedWindowRateLimiterOptions
        {
            PermitLimit = w.Limit, Window = w.Length, QueueLimit = 0, AutoReplenishment = false,
        }));

    public ValueTask<RateDecision> TryAcquireAsync(string key, int limit, TimeSpan window, CancellationToken ct)
    {
        using var lease = Retried(() => _limiters.AttemptAcquire(new Window(key, limit, window)));
        return ValueTask.FromResult(Decision(lease, limit, window));
    }

    public ValueTask<RateDecision> PeekAsync(string key, int limit, TimeSpan window, CancellationToken ct)
    {
        var available = Retried(() => _limiters.GetStatistics(new Window(key, limit, window)))?.CurrentAvailablePermits ?? limit;
        return ValueTask.FromResult(new RateDecision(available > 0, limit, window));
    }

    /// <summary>
    /// The partitioned limiter hands out a key's limiter outside its lock, and its timer may drop and dispose that
    /// limiter (idle ten seconds) before it is used (dotnet/runtime#99865): asked again, it makes a fresh one.
    /// </summary>
    private T Retried<T>(Func<T> use)
    {
        try
        {
            return use();
        }
        catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) == 0)
        {
            return use();
        }
    }

    private int _disposed;

    private static RateDecision Decision(RateLimitLease lease, int limit, TimeSpan window) =>
        lease.IsAcquired ? new RateDecision(true, limit, window)
        : new RateDecision(false, limit, lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : window);

    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        _limiters.Dispose();
    }
}

/// <summary>
/// Counters shared by every instance through Redis: one INCR per acquisition on a key named after the window, expiring
/// with it, in one round trip (a Lua script), so N instances together admit at most the limit per window.
/// </summary>
public sealed class RedisRateCounter(IConnectionMultiplexer redis, TimeProvider clock) : IRateCounter
{
    private const string AcquireScript = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return count
        """;

    public async ValueTask<RateDecision> TryAcquireAsync(string key, int limit, TimeSpan window, CancellationToken ct)
    {
        var (windowKey, reset) = WindowOf(key, window);
        var count = (long)await redis.GetDatabase().ScriptEvaluateAsync(AcquireScript, [windowKey], [(long)window.TotalMilliseconds * 2]);
        return new RateDecision(count <= limit, limit, reset);
    }

    public async ValueTask<RateDecision> PeekAsync(string key, int limit, TimeSpan window, CancellationToken ct)
    {
        var (windowKey, reset) = WindowOf(key, window);
        var value = await redis.GetDatabase().StringGetAsync(windowKey);
        return new RateDecision(!value.HasValue || (long)value < limit, limit, reset);
    }

    private (RedisKey Key, TimeSpan ResetAfter) WindowOf(string key, TimeSpan window)
    {
        var nowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var windowMs = (long)window.TotalMilliseconds;
        var index = nowMs / windowMs;
        return ($"exbridge:rl:{key}:{windowMs}:{index}", TimeSpan.FromMilliseconds((index + 1) * windowMs - nowMs));
    }
}
