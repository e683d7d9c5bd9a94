namespace ExchangeBridge.Server.RateLimits;

/// <summary>
/// Settings under "ExchangeBridge:RateLimits". Defaults are the platform's documented limits for the exchange
/// binding methods: 50 requests per second and 1,000 per minute, per method and app.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "ExchangeBridge:RateLimits";

    public bool Enabled { get; set; } = true;

    /// <summary>Per method and app (190004).</summary>
    public int MethodPerSecond { get; set; } = 50;
    public int MethodPerMinute { get; set; } = 1000;

    /// <summary>Per app over all Open API methods (190005).</summary>
    public int AppPerSecond { get; set; } = 100;

    /// <summary>Token requests per app (99991400).</summary>
    public int TokenPerSecond { get; set; } = 50;

    /// <summary>Wrong secrets per app and source address a minute, before that source's token requests wait (99991400).</summary>
    public int FailedTokenPerMinute { get; set; } = 20;

    /// <summary>
    /// Wrong secrets per app a minute from all sources together, before every token request of the app waits (99991400).
    /// Higher than <see cref="FailedTokenPerMinute"/>, so that no single source can lock the app out for everyone.
    /// </summary>
    public int FailedTokenPerAppPerMinute { get; set; } = 200;

    /// <summary>When set, counters live in this Redis, shared by every instance; otherwise each instance counts alone.</summary>
    public string? RedisConnectionString { get; set; }

    public void Validate()
    {
        foreach (var (name, value) in new[]
                 {
                     (nameof(MethodPerSecond), MethodPerSecond), (nameof(MethodPerMinute), MethodPerMinute),
                     (nameof(AppPerSecond), AppPerSecond), (nameof(TokenPerSecond), TokenPerSecond),
                     (nameof(FailedTokenPerMinute), FailedTokenPerMinute), (nameof(FailedTokenPerAppPerMinute), FailedTokenPerAppPerMinute),
                 })
            if (value < 1) throw new InvalidOperationException($"{Section}:{name} must be positive.");
        if (FailedTokenPerAppPerMinute <= FailedTokenPerMinute)
            throw new InvalidOperationException(
                $"{Section}:{nameof(FailedTokenPerAppPerMinute)} must be above {nameof(FailedTokenPerMinute)}, or one source could lock an app out for everyone.");
    }
}
