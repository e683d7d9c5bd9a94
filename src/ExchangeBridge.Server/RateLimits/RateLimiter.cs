using ExchangeBridge.Core.Errors;
using ExchangeBridge.Server.Identity;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.RateLimits;

/// <summary>
/// The platform's limits: per method and app (190004), per app (190005), on token requests (99991400). A refusal
/// carries <c>x-ogw-ratelimit-limit</c> and <c>x-ogw-ratelimit-reset</c> (seconds), as the platform's gateway sends them.
/// </summary>
public sealed class RateLimiter(IRateCounter counter, IOptions<RateLimitOptions> options)
{
    public const string LimitHeader = "x-ogw-ratelimit-limit";
    public const string ResetHeader = "x-ogw-ratelimit-reset";
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private readonly RateLimitOptions _options = options.Value;

    /// <summary>Counts one call of <paramref name="method"/> by the caller's app, or throws the platform's refusal.</summary>
    public async ValueTask CheckMethodAsync(HttpContext context, string method, Caller caller, CancellationToken ct)
    {
        if (!_options.Enabled) return;
        await Enforce(context, $"m:{method}:{caller.AppId}", _options.MethodPerSecond, Second, FeishuErrors.MethodRateLimited, ct);
        await Enforce(context, $"m:{method}:{caller.AppId}", _options.MethodPerMinute, Minute, FeishuErrors.MethodRateLimited, ct);
        await Enforce(context, $"a:{caller.AppId}", _options.AppPerSecond, Second, FeishuErrors.AppRateLimited, ct);
    }

    /// <summary>Counts one token request for an app id; refuses while it has failed too often this minute.</summary>
    public async ValueTask CheckTokenRequestAsync(HttpContext context, string appId, CancellationToken ct)
    {
        if (!_options.Enabled) return;
        var failures = await counter.PeekAsync($"tf:{appId}", _options.FailedTokenPerMinute, Minute, ct);
        if (!failures.Allowed) Refuse(context, failures, FeishuErrors.RequestFrequencyLimit);
        await Enforce(context, $"t:{appId}", _options.TokenPerSecond, Second, FeishuErrors.RequestFrequencyLimit, ct);
    }

    public async ValueTask RecordTokenFailureAsync(string appId, CancellationToken ct)
    {
        if (_options.Enabled) await counter.TryAcquireAsync($"tf:{appId}", _options.FailedTokenPerMinute, Minute, ct);
    }

    private async ValueTask Enforce(HttpContext context, string key, int limit, TimeSpan window, FeishuError error, CancellationToken ct)
    {
        var decision = await counter.TryAcquireAsync(key, limit, window, ct);
        if (!decision.Allowed) Refuse(context, decision, error);
    }

    private static void Refuse(HttpContext context, RateDecision decision, FeishuError error)
    {
        context.Response.Headers[LimitHeader] = decision.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers[ResetHeader] = Math.Max(1, (int)Math.Ceiling(decision.ResetAfter.TotalSeconds))
            .ToString(System.Globalization.CultureInfo.InvariantCulture);
        throw new FeishuException(error);
    }
}

public static class RateLimitedEndpoints
{
    /// <summary>Counts every call of the endpoint against its method's and its app's limits before the handler runs.</summary>
    public static RouteHandlerBuilder RateLimited(this RouteHandlerBuilder endpoint, string method) =>
        endpoint.AddEndpointFilter(async (invocation, next) =>
        {
            var http = invocation.HttpContext;
            await http.RequestServices.GetRequiredService<RateLimiter>().CheckMethodAsync(http, method, Caller.Of(http), http.RequestAborted);
            return await next(invocation);
        });
}
