using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features.Authentication;

namespace ExchangeBridge.Server.Identity;

/// <summary>
/// Authentication, then authorisation of the matched endpoint's policy: the framework's <c>UseAuthentication</c> and
/// <c>UseAuthorization</c>, with the two cases that make up nearly every request decided here, without the request
/// service scope the framework's middleware open for every request to resolve their handler provider, policy evaluator
/// and result handler:
/// 1. an endpoint with no policy (the token endpoints, health), or a request routing matched to nothing (the gateway's
///    404) while no fallback policy is set, while no scheme handles requests by itself and none is the default: the
///    framework's middleware would find nothing to do;
/// 2. a Feishu policy (the bearer scheme alone, every requirement a <see cref="FeishuPolicy"/>) and a bearer token whose
///    caller <see cref="TokenService"/> validated a moment ago, meeting every requirement: admitted as the framework
///    would admit it, with the caller and principal <see cref="BearerTokenHandler"/> gives it.
/// Everything else goes through the framework's two middleware, unchanged: no token or one not cached, any refusal (so
/// its answer is the framework's), the operator key, the console's cookie, AllowAnonymous, and any requirement that is
/// not Feishu's, such as a rule added to a route.
/// </summary>
/// <remarks>
/// The endpoint's policy is the one the framework's middleware evaluates, combined from the same metadata (policy
/// names, policies, the fallback policy) by the same <c>AuthorizationPolicy.CombineAsync</c>,
/// once per endpoint as the framework caches it; an endpoint with requirement metadata of its own or a policy provider
/// that does not allow caching always goes the framework's way.
/// </remarks>
public static class AuthorizationStep
{
    public static IApplicationBuilder UseFeishuAuthorization(this IApplicationBuilder app)
    {
        var decisions = new EndpointDecisions(
            app.ApplicationServices.GetRequiredService<IAuthorizationPolicyProvider>(),
            app.ApplicationServices.GetRequiredService<IAuthenticationSchemeProvider>(),
            app.ApplicationServices.GetRequiredService<TokenService>());
        var framework = app.New();
        framework.UseAuthentication();
        framework.UseAuthorization();
        // Unless the application's properties say both are in the pipeline, WebApplication adds them again at its start.
        foreach (var (key, value) in framework.Properties) app.Properties.TryAdd(key, value);
        return app.Use(next =>
        {
            framework.Run(next);
            var frameworkWay = framework.Build();
            return context => decisions.Decide(context, next, frameworkWay);
        });
    }

    private enum Decision
    {
        /// <summary>The framework's middleware, whoever calls.</summary>
        Framework,
        /// <summary>No policy and nothing to authenticate: straight on.</summary>
        Open,
        /// <summary>A Feishu policy of the bearer scheme: a cached caller it admits goes straight on.</summary>
        CachedCaller,
    }

    private sealed record EndpointDecision(Decision Decision, FeishuPolicy? Policy);

    private sealed class EndpointDecisions(IAuthorizationPolicyProvider policies, IAuthenticationSchemeProvider schemes, TokenService tokens)
    {
        private static readonly EndpointDecision FrameworkWay = new(Decision.Framework, null);
        private static readonly EndpointDecision OpenWay = new(Decision.Open, null);

        private readonly ConcurrentDictionary<Endpoint, EndpointDecision> _byEndpoint = new();

        // A request routing matched to nothing meets the policy the framework gives no metadata (the fallback policy, if
        // one is set), decided once like an endpoint's, so that a flood of unknown paths costs no request scope each.
        private EndpointDecision? _unrouted;

        public Task Decide(HttpContext context, RequestDelegate next, RequestDelegate framework)
        {
            var endpoint = context.GetEndpoint();
            var decided = endpoint is null ? _unrouted : _byEndpoint.GetValueOrDefault(endpoint);
            if (decided is null) return DecideFirstAsync(context, endpoint, next, framework);
            return Admits(context, decided) ? next(context) : framework(context);
        }

        private async Task DecideFirstAsync(HttpContext context, Endpoint? endpoint, RequestDelegate next, RequestDelegate framework)
        {
            EndpointDecision decided;
            if (endpoint is null) decided = _unrouted ??= await DecisionForAsync(EndpointMetadataCollection.Empty);
            else decided = _byEndpoint.GetOrAdd(endpoint, await DecisionForAsync(endpoint.Metadata));
            await (Admits(context, decided) ? next(context) : framework(context));
        }

        private bool Admits(HttpContext context, EndpointDecision decided)
        {
            switch (decided.Decision)
            {
                case Decision.Open:
                    return true;
                case Decision.CachedCaller:
                    if (!BearerTokenHandler.TryAuthenticateCached(context, tokens, out var authenticated) ||
                        !decided.Policy!.Admits(Caller.Of(context)))
                        return false;
                    // As the framework's authorisation middleware leaves a request its evaluator authenticated.
                    var features = new AuthenticatedRequest(authenticated.Result);
                    context.Features.Set<IHttpAuthenticationFeature>(features);
                    context.Features.Set<IAuthenticateResultFeature>(features);
                    return true;
                default:
                    return false;
            }
        }

        private async Task<EndpointDecision> DecisionForAsync(EndpointMetadataCollection metadata)
        {
            if (!policies.AllowsCachingPolicies || metadata.GetMetadata<IAllowAnonymous>() is not null ||
                metadata.GetOrderedMetadata<IAuthorizationRequirementData>().Count > 0)
                return FrameworkWay;
            var policy = await AuthorizationPolicy.CombineAsync(policies,
                metadata.GetOrderedMetadata<IAuthorizeData>(), metadata.GetOrderedMetadata<AuthorizationPolicy>());
            if (policy is null)
            {
                // What the framework's authentication middleware would do with no policy asking for a scheme.
                var handlesRequests = (await schemes.GetRequestHandlerSchemesAsync()).Any();
                var authenticatesByDefault = await schemes.GetDefaultAuthenticateSchemeAsync() is not null;
                return handlesRequests || authenticatesByDefault ? FrameworkWay : OpenWay;
            }
            return policy.AuthenticationSchemes is [BearerTokenHandler.SchemeName] && FeishuPolicy.Read(policy) is { } feishu
                ? new EndpointDecision(Decision.CachedCaller, feishu)
                : FrameworkWay;
        }
    }

    /// <summary>The framework's record of an authenticated request (its own type for it is internal).</summary>
    private sealed class AuthenticatedRequest(AuthenticateResult result) : IHttpAuthenticationFeature, IAuthenticateResultFeature
    {
        public ClaimsPrincipal? User { get; set; } = result.Principal;
        public AuthenticateResult? AuthenticateResult { get; set; } = result;
    }
}
