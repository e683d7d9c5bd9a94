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

/// <summary>
/// The endpoint accepts only these token kinds. The platform's msg for a token of another kind reads as if the token
/// were broken ("Invalid access token"), so the refusal's troubleshooter names the kind the endpoint takes.
/// </summary>
public sealed record TokenKindRequirement(params TokenKind[] Accepted) : IFeishuRequirement
{
    public FeishuException? Refusal(Caller caller) =>
        Accepted.Contains(caller.Kind) ? null
        : new FeishuException(caller.Kind switch
        {
            TokenKind.User => FeishuErrors.UserAccessTokenNotSupported,
            TokenKind.App => FeishuErrors.InvalidAppAccessToken,
            _ => FeishuErrors.InvalidTenantAccessToken,
        }, troubleshooter: $"this endpoint takes a {string.Join(" or ", Accepted.Select(WireName))}; " +
                           $"the request sent a {WireName(caller.Kind)}, which is valid but of the wrong kind");

    private static string WireName(TokenKind kind) => kind switch
    {
        TokenKind.User => "user_access_token (Bearer u-…)",
        TokenKind.App => "app_access_token (Bearer a-…)",
        _ => "tenant_access_token (Bearer t-…)",
    };
}

/// <summary>
/// A user token's user still works in the tenant. Resigning deletes the user's tokens; this holds for a caller another
/// instance validated a moment before, for the rest of its cache time.
/// </summary>
public sealed record NotResignedRequirement : IFeishuRequirement
{
    public FeishuException? Refusal(Caller caller) =>
        caller is { Kind: TokenKind.User, IsResigned: true }
            ? new FeishuException(FeishuErrors.InvalidUserAccessToken,
                troubleshooter: "the token's user has resigned; their tokens were revoked and reinstating them brings none back")
            : null;
}

/// <summary>
/// A tenant token acts as the app itself, which the platform allows only to an app with the bot capability (190007).
/// </summary>
public sealed record AppBotRequirement : IFeishuRequirement
{
    public FeishuException? Refusal(Caller caller) =>
        caller.Kind == TokenKind.Tenant && !caller.AppHasBot
            ? new FeishuException(FeishuErrors.AppBotNotFound,
                troubleshooter: "a tenant_access_token reads as the app itself, which needs the app's bot capability " +
                                $"(operator API: PATCH /admin/v1/tenants/{caller.TenantKey}/apps/{caller.AppId} {{\"bot_enabled\":true}}); " +
                                "or send the user's user_access_token to read their calendars")
            : null;
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
        // Requirements, not PendingRequirements: Succeed changes the pending set, and a copy of it costs every request.
        if (context.Resource is HttpContext http && http.Features.Get<Caller>() is { } caller)
            foreach (var requirement in context.Requirements)
                if (requirement is IFeishuRequirement feishu && feishu.Refusal(caller) is null) context.Succeed(requirement);
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
    public const string ReadFreeBusy = "freebusy:read";
    /// <summary>The subscription endpoints: a user subscribes the app to their own calendars' changes (user tokens only).</summary>
    public const string SubscribeCalendar = "calendars:subscribe";
    public const string ExchangeCode = "authen:code";

    public static AuthorizationBuilder AddFeishuPolicies(this AuthorizationBuilder builder)
    {
        // The bearer scheme is named here, not made the default: only endpoints with a Feishu policy authenticate with it.
        AuthorizationPolicyBuilder Base(AuthorizationPolicyBuilder p) =>
            p.AddAuthenticationSchemes(BearerTokenHandler.SchemeName).RequireAuthenticatedUser();

        return builder
            .AddPolicy(CreateBinding, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User), new ScopeRequirement(Scopes.CreateBinding), new SuperAdminRequirement()))
            .AddPolicy(ReadBinding, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User), new ScopeRequirement(Scopes.ReadBinding), new SuperAdminRequirement()))
            .AddPolicy(DeleteBinding, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User), new ScopeRequirement(Scopes.DeleteBinding), new SuperAdminRequirement()))
            .AddPolicy(ReadCalendar, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User, TokenKind.Tenant), new ScopeRequirement(Scopes.ReadCalendar),
                new NotResignedRequirement(), new AppBotRequirement()))
            .AddPolicy(ReadFreeBusy, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User, TokenKind.Tenant), new ScopeRequirement(Scopes.ReadFreeBusy),
                new NotResignedRequirement(), new AppBotRequirement()))
            .AddPolicy(SubscribeCalendar, p => Base(p).AddRequirements(
                new TokenKindRequirement(TokenKind.User), new ScopeRequirement(Scopes.ReadCalendar), new NotResignedRequirement()))
            // The Node SDK sends its tenant token to the code exchange; the documentation says app token. Both are the app's.
            .AddPolicy(ExchangeCode, p => Base(p).AddRequirements(new TokenKindRequirement(TokenKind.App, TokenKind.Tenant)));
    }
}
