using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace ExchangeBridge.Server.Identity;

/// <summary>
/// The framework's policy evaluator, which <c>UseAuthorization</c> calls for every endpoint with a policy that
/// <see cref="AuthorizationStep"/> did not decide itself, doing the cases of a Feishu policy it can directly: a bearer
/// token whose caller <see cref="TokenService"/> holds (a cached caller refused, whose refusal the framework answers) is
/// authenticated without the handler, and a caller meeting every requirement (one the handler has just validated) is
/// admitted without the authorisation service. Everything else (no or unknown token, a refusal, the operator key, any
/// requirement this class does not know) goes to the framework's own evaluation, unchanged.
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
        authenticationResult.Succeeded && context.User.Identity is { IsAuthenticated: true } &&
        context.Features.Get<Caller>() is { } caller && FeishuPolicy.Read(policy)?.Admits(caller) == true
            ? Succeeded
            // A refusal (whose first unmet requirement FeishuAuthorizationResultHandler names) or a policy not Feishu's.
            : base.AuthorizeAsync(policy, authenticationResult, context, resource);
}
