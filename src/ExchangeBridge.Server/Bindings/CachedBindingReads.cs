using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.RateLimits;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;

namespace ExchangeBridge.Server.Bindings;

/// <summary>
/// Serves <c>GET /open-apis/calendar/v4/exchange_bindings/{id}</c> from <see cref="BindingReadCache"/> ahead of routing,
/// authentication and authorisation, when every check the full pipeline makes is already settled: the bearer token is
/// a caller validated a moment ago whom the read policy admits, the query asks for nothing unusual, the answer is
/// cached and the rate limits admit the call. Anything else takes the full pipeline, which says what is wrong and
/// fills the cache. A hit costs no database round trip, no serialisation and no claims principal.
/// </summary>
public static class CachedBindingReads
{
    private const string Prefix = ExchangeBindingsApi.Path + "/";

    public static IApplicationBuilder UseCachedBindingReads(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        var answers = services.GetRequiredService<BindingReadCache>();
        if (!answers.Enabled) return app;
        var tokens = services.GetRequiredService<TokenService>();
        var limiter = services.GetRequiredService<RateLimiter>();
        var policy = services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(Policies.ReadBinding).GetAwaiter().GetResult()
                     ?? throw new InvalidOperationException($"No policy {Policies.ReadBinding}.");
        // Only a policy this lane can evaluate exactly as the authorisation middleware would is served here.
        if (policy.Requirements.Any(r => r is not IFeishuRequirement and not DenyAnonymousAuthorizationRequirement)) return app;
        var requirements = policy.Requirements.OfType<IFeishuRequirement>().ToArray();
        Endpoint? endpoint = null;

        return app.Use((context, next) =>
        {
            if (!TryFind(context, tokens, requirements, answers, out var caller, out var answer)) return next(context);
            // The route's endpoint and the caller, so request metrics and the request log say what the long way says.
            context.SetEndpoint(endpoint ??= FindEndpoint(services));
            context.Features.Set(caller);
            var admitted = limiter.CheckMethodAsync(context, ExchangeBindingsApi.GetRateLimitName, caller, context.RequestAborted);
            return admitted.IsCompletedSuccessfully
                ? FeishuJson.WriteAsync(context.Response, answer, context.RequestAborted)
                : WriteWhenAdmittedAsync(admitted, context, answer);
        });
    }

    private static bool TryFind(HttpContext context, TokenService tokens, IFeishuRequirement[] requirements, BindingReadCache answers,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Caller? caller, out byte[] answer)
    {
        caller = null;
        answer = [];
        var request = context.Request;
        var path = request.Path.Value;
        if (!HttpMethods.IsGet(request.Method) || path is null || path.Length <= Prefix.Length
            || !path.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase)
            // An escaped id is left to the route's own decoding.
            || path.AsSpan(Prefix.Length).Contains('%'))
            return false;
        if (!TryReadIdType(request, out var idType)) return false;
        if (!tokens.TryGetCachedCaller(BearerTokenHandler.BearerToken(request.Headers.Authorization.ToString()), out caller)) return false;
        foreach (var requirement in requirements)
            if (requirement.Refusal(caller) is not null) return false;
        return answers.TryGet(new BindingReadCache.Key(caller.TenantKey, caller.AppId, path[Prefix.Length..], idType), out answer);
    }

    /// <summary>No query, or one plain user_id_type; anything the handler would refuse is left to it.</summary>
    private static bool TryReadIdType(HttpRequest request, out UserIdType idType)
    {
        idType = UserIdType.OpenId;
        if (!request.QueryString.HasValue) return true;
        var values = request.Query["user_id_type"];
        return values.Count <= 1 && UserIdTypes.TryParse(values.Count == 1 ? values[0] : null, out idType);
    }

    private static async Task WriteWhenAdmittedAsync(ValueTask admitted, HttpContext context, byte[] answer)
    {
        await admitted;
        await FeishuJson.WriteAsync(context.Response, answer, context.RequestAborted);
    }

    private static Endpoint FindEndpoint(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.Single(e =>
            e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == ExchangeBindingsApi.GetEndpointName);
}
