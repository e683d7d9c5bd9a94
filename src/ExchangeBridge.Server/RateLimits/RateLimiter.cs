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

    /// <summary>
    /// Counts one token request for an app id; refuses while wrong secrets for it have come too often this minute from
    /// the request's source, or from everywhere together. Failures are counted per source so that whoever guesses locks
    /// out only themselves: the right secret from another address still works. The app-wide ceiling (many sources
    /// guessing together) is higher than one source can reach, since a source stops being counted once it is locked out.
    /// </summary>
    public async ValueTask CheckTokenRequestAsync(HttpContext context, string appId, CancellationToken ct)
    {
        if (!_options.Enabled) return;
        var fromSource = await counter.PeekAsync(SourceFailureKey(context, appId), _options.FailedTokenPerMinute, Minute, ct);
        if (!fromSource.Allowed) Refuse(context, fromSource, FeishuErrors.RequestFrequencyLimit);
        var fromAll = await counter.PeekAsync($"tfa:{appId}", _options.FailedTokenPerAppPerMinute, Minute, ct);
        if (!fromAll.Allowed) Refuse(context, fromAll, FeishuErrors.RequestFrequencyLimit);
        await Enforce(context, $"t:{appId}", _options.TokenPerSecond, Second, FeishuErrors.RequestFrequencyLimit, ct);
    }

    public async ValueTask RecordTokenFailureAsync(HttpContext context, string appId, CancellationToken ct)
    {
        if (!_options.Enabled) return;
        await counter.TryAcquireAsync(SourceFailureKey(context, appId), _options.FailedTokenPerMinute, Minute, ct);
        await counter.TryAcquireAsync($"tfa:{appId}", _options.FailedTokenPerAppPerMinute, Minute, ct);
    }

    private static string SourceFailureKey(HttpContext context, string appId) => $"tf:{appId}:{Source(context.Connection.RemoteIpAddress)}";

    /// <summary>
    /// Where a request comes from, as far as counting goes: an IPv4 address, or an IPv6 address's /64 (one host is
    /// commonly handed a whole /64, so counting single IPv6 addresses would let it change address on every guess).
    /// </summary>
    public static string Source(System.Net.IPAddress? address)
    {
        if (address is null) return "-";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return address.ToString();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new System.Net.IPAddress(bytes) + "/64";
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

/// <summary>The method an endpoint's calls are counted under (e.g. <c>exchange_bindings.get</c>).</summary>
public sealed record RateLimitedMethod(string Name);

public static class RateLimitedEndpoints
{
    /// <summary>Counts every call of the endpoint against its method's and its app's limits (see <see cref="UseMethodRateLimits"/>).</summary>
    public static TBuilder RateLimited<TBuilder>(this TBuilder endpoint, string method) where TBuilder : IEndpointConventionBuilder =>
        endpoint.WithMetadata(new RateLimitedMethod(method));

    /// <summary>
    /// Enforces the matched endpoint's <see cref="RateLimitedMethod"/> after authorisation (the count is the caller's
    /// app's), before the endpoint runs, whatever the endpoint then answers from.
    /// </summary>
    public static IApplicationBuilder UseMethodRateLimits(this IApplicationBuilder app)
    {
        var limiter = app.ApplicationServices.GetRequiredService<RateLimiter>();
        return app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<RateLimitedMethod>() is not { } method) return next(context);
            var admitted = limiter.CheckMethodAsync(context, method.Name, Caller.Of(context), context.RequestAborted);
            return admitted.IsCompletedSuccessfully ? next(context) : NextWhenAdmittedAsync(admitted, context, next);
        });
    }

    private static async Task NextWhenAdmittedAsync(ValueTask admitted, HttpContext context, RequestDelegate next)
    {
        await admitted;
        await next(context);
    }
}
