using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace ExchangeBridge.Server.Identity;

/// <summary>
/// The framework's policy evaluator, which <c>UseAuthorization</c> calls for every endpoint with a policy, doing the
/// common case of a Feishu policy directly: a bearer token whose caller <see cref="TokenService"/> validated a moment
/// ago, meeting every requirement. Everything else (no or unknown token, a refusal, the operator key, any requirement
/// this class does not know) goes to the framework's own evaluation, unchanged.
/// </summary>
/// <remarks>
/// The framework's general machinery is most of what a cached GET costs after routing: per request it resolves and
/// initialises an authentication handler, merges the principal into a new one with a new ticket, and builds an
/// authorisation context with its pending set, to reach the answer this class reads off the same <see cref="Caller"/>
/// with the same <see cref="IFeishuRequirement.Refusal"/>. Nothing is cached here: the caller is the one the token
/// cache holds, forgotten by the same commits that forget it there.
/// </remarks>
public sealed class FeishuPolicyEvaluator(IAuthorizationService authorization, TokenService tokens) : PolicyEvaluator(authorization)
{
    private static readonly Task<PolicyAuthorizationResult> Succeeded = Task.FromResult(PolicyAuthorizationResult.Success());

    public override Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context)
    {
        if (policy.AuthenticationSchemes is [BearerTokenHandler.SchemeName] &&
            BearerTokenHandler.TryAuthenticateCached(context, tokens, out var authenticated))
        {
            // As the framework's evaluation leaves it after its one scheme succeeded.
            context.User = authenticated.Result.Principal!;
            return authenticated;
        }
        return base.AuthenticateAsync(policy, context);
    }

    public override Task<PolicyAuthorizationResult> AuthorizeAsync(
        AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource) =>
        authenticationResult.Succeeded && context.Features.Get<Caller>() is { } caller && MeetsEvery(policy, context.User, caller)
            ? Succeeded
            // A refusal (whose first unmet requirement FeishuAuthorizationResultHandler names) or a policy not Feishu's.
            : base.AuthorizeAsync(policy, authenticationResult, context, resource);

    /// <summary>
    /// True when the framework's evaluation would succeed: the caller is authenticated (DenyAnonymous) and meets every
    /// Feishu requirement; false when any is unmet or is of a kind only the framework evaluates.
    /// </summary>
    private static bool MeetsEvery(AuthorizationPolicy policy, System.Security.Claims.ClaimsPrincipal user, Caller caller)
    {
        foreach (var requirement in policy.Requirements)
        {
            var met = requirement switch
            {
                DenyAnonymousAuthorizationRequirement => user.Identity is { IsAuthenticated: true },
                IFeishuRequirement feishu => feishu.Refusal(caller) is null,
                _ => false,
            };
            if (!met) return false;
        }
        return true;
    }
}
