using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace ExchangeBridge.Server.Identity;

/// <summary>A requirement that knows which catalog error refuses a caller who does not meet it.</summary>
public interface IFeishuRequirement : IAuthorizationRequirement
{
    /// <summary>Null when the caller meets the requirement.</summary>
    FeishuException? Refusal(Caller caller);
}

/// <summary>The endpoint accepts only these token kinds.</summary>
public sealed record TokenKindRequirement(params TokenKind[] Accepted) : IFeishuRequirement
{
    public FeishuException? Refusal(Caller caller) =>
        Accepted.Contains(caller.Kind) ? null
        : new FeishuException(caller.Kind switch
        {
            TokenKind.User => FeishuErrors.UserAccessTokenNotSupported,
            TokenKind.App => FeishuErrors.InvalidAppAccessToken,
            _ => FeishuErrors.InvalidTenantAccessToken,
        });
}

/// <summary>The caller's app holds any one of these scopes.</summary>
public sealed record ScopeRequirement(params string[] AnyOf) : IFeishuRequirement
{
    public FeishuException? Refusal(Caller caller)
    {
        foreach (var scope in AnyOf)
            if (caller.AppScopes.Contains(scope)) return null;
        return new FeishuException(FeishuErrors.AppScopeMissing.WithArguments(string.Join(", ", AnyOf)), missingScopes: AnyOf);
    }
}

/// <summary>The calling user is in the tenant, not resigned, and one of its super administrators.</summary>
public sealed record SuperAdminRequirement : IFeishuRequirement
{
    public FeishuException? Refusal(Caller caller) =>
        caller.UserId is null || caller.IsResigned ? new FeishuException(FeishuErrors.UserNotInTenant)
        : caller.IsSuperAdmin ? null
        : new FeishuException(FeishuErrors.NotSuperAdministrator);
}

/// <summary>Evaluates every <see cref="IFeishuRequirement"/> against the request's caller.</summary>
public sealed class FeishuRequirementHandler : IAuthorizationHandler
{
    public Task HandleAsync(AuthorizationHandlerContext context)
    {
        if (context.Resource is HttpContext http && http.Features.Get<Caller>() is { } caller)
            foreach (var requirement in context.PendingRequirements.OfType<IFeishuRequirement>().ToList())
                if (requirement.Refusal(caller) is null) context.Succeed(requirement);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Turns an authorisation failure into the platform's answer: the first unmet requirement, in the order the
/// policy lists them (token kind, then scope, then standing), names the error.
/// </summary>
public sealed class FeishuAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Forbidden && context.Features.Get<Caller>() is { } caller)
        {
            foreach (var requirement in policy.Requirements.OfType<IFeishuRequirement>())
                if (requirement.Refusal(caller) is { } refusal)
                    return WireErrors.WriteAsync(context, refusal);
        }
        return _default.HandleAsync(next, context, policy, result);
    }
}

public static class Policies
{
    public const string CreateBinding = "exchange_bindings:create";
    public const string ReadBinding = "exchange_bindings:read";
    public const string DeleteBinding = "exchange_bindings:delete";
    public const string ReadCalendar = "calendars:read";
    public const string ExchangeCode = "authen:code";

    public static AuthorizationBuilder AddFeishuPolicies(this AuthorizationBuilder builder)
    {
        // The bearer scheme is the default one, so naming it here would only authenticate every request twice.
        AuthorizationPolicyBuilder Base(AuthorizationPolicyBuilder p) => p.RequireAuthenticatedUser();

        return builder
            .AddPolicy(CreateBinding, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User), new ScopeRequirement(Scopes.CreateBinding), new SuperAdminRequirement()))
            .AddPolicy(ReadBinding, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User), new ScopeRequirement(Scopes.ReadBinding), new SuperAdminRequirement()))
            .AddPolicy(DeleteBinding, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User), new ScopeRequirement(Scopes.DeleteBinding), new SuperAdminRequirement()))
            .AddPolicy(ReadCalendar, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User, TokenKind.Tenant), new ScopeRequirement(Scopes.ReadCalendar)))
            // The Node SDK sends its tenant token to the code exchange; the documentation says app token. Both are the app's.
            .AddPolicy(ExchangeCode, p => Base(p).AddRequirements(new TokenKindRequirement(TokenKind.App, TokenKind.Tenant)));
    }
}
