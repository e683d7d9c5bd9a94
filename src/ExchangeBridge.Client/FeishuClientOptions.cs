namespace ExchangeBridge.Client;

/// <summary>
/// Where the client talks to, as whom, and how it retries. One instance configures one <see cref="FeishuClient"/>
/// (or <see cref="ExchangeBridgeOperatorClient"/>); change it before the client is made, not after.
/// </summary>
public sealed class FeishuClientOptions
{
    /// <summary>The Open Platform's address, or a self-hosted ExchangeBridge's (e.g. <c>http://127.0.0.1:8080</c>).</summary>
    public Uri BaseAddress { get; set; } = new("https://open.feishu.cn");

    /// <summary>The self-built app's id (<c>cli_…</c>); with <see cref="AppSecret"/> it yields tenant access tokens.</summary>
    public string? AppId { get; set; }

    public string? AppSecret { get; set; }

    /// <summary>
    /// A user access token (the exchange-binding endpoints need a super administrator's). With
    /// <see cref="UserRefreshToken"/> the client refreshes it when it expires, through the app's tenant token.
    /// </summary>
    public string? UserAccessToken { get; set; }

    public string? UserRefreshToken { get; set; }

    /// <summary>When <see cref="UserAccessToken"/> expires, if known; the client then refreshes it a little before.</summary>
    public DateTimeOffset? UserAccessTokenExpiresAt { get; set; }

    /// <summary>Called after the client refreshed or obtained user tokens, so the caller can keep the new refresh token.</summary>
    public Action<UserTokens>? UserTokensChanged { get; set; }

    /// <summary>Called before each retry with what went wrong and how long the client waits.</summary>
    public Action<FeishuRetryInfo>? Retrying { get; set; }

    public FeishuRetryOptions Retry { get; } = new();

    /// <summary>Longest wait for one HTTP attempt.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>The HTTP handler to send through (a proxy, a test double); the client does not dispose it.</summary>
    public HttpMessageHandler? Transport { get; set; }
}

/// <summary>
/// Retries of 429 and 5xx answers and of network failures. A rate-limited answer is retried after the server's
/// <c>x-ogw-ratelimit-reset</c> (seconds) or <c>Retry-After</c>; anything else after an exponential back-off with jitter.
/// </summary>
public sealed class FeishuRetryOptions
{
    /// <summary>Retries after the first attempt; 0 disables retrying.</summary>
    public int MaxRetries { get; set; } = 6;

    /// <summary>The first back-off when the server names none; it doubles per retry, with jitter.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest single wait, whatever the server asks for.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>One retry about to happen: the attempt that failed (1 for the first), its HTTP status or exception, the wait.</summary>
public sealed record FeishuRetryInfo(int Attempt, int? HttpStatus, Exception? Exception, TimeSpan Delay, bool RateLimited);
