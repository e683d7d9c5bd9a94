using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Identity;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;token&gt;</c> with the platform's tokens. The validated
/// <see cref="Caller"/> rides on the request's features; a refusal is remembered so the challenge answers with
/// the platform's code for it.
/// </summary>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenService tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "FeishuBearer";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0) return AuthenticateResult.NoResult();
        var token = BearerToken(header);
        if (token.IsEmpty) return Refuse(new FeishuException(FeishuErrors.MissingAccessToken));

        try
        {
            // A caller validated a moment ago is found by the header's span: no token string, no await.
            var caller = tokens.TryGetCachedCaller(token, out var cached) ? cached
                : await tokens.ValidateAsync(token.ToString(), Context.RequestAborted);
            Context.Features.Set(caller);
            return await Authenticated(caller);
        }
        catch (FeishuException e)
        {
            return Refuse(e);
        }
    }

    /// <summary>The token of an <c>Authorization: Bearer &lt;token&gt;</c> header; empty when the header is not one.</summary>
    public static ReadOnlySpan<char> BearerToken(string header) =>
        header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header.AsSpan(7).Trim() : default;

    /// <summary>
    /// The request's caller when its header's token is one <see cref="TokenService"/> validated a moment ago (and has not
    /// forgotten since: a revocation, resignation or change of the app forgets it at commit), set on the request as
    /// <see cref="HandleAuthenticateAsync"/> sets it; false for anything else, which the handler then authenticates or refuses.
    /// </summary>
    public static bool TryAuthenticateCached(HttpContext context, TokenService tokens, [NotNullWhen(true)] out Task<AuthenticateResult>? result)
    {
        var token = BearerToken(context.Request.Headers.Authorization.ToString());
        if (token.IsEmpty || !tokens.TryGetCachedCaller(token, out var caller))
        {
            result = null;
            return false;
        }
        context.Features.Set(caller);
        result = Authenticated(caller);
        return true;
    }

    // A validated caller is cached for a while (TokenService): its result (ticket, principal, claims) is built once with
    // it, not on every request. Nothing downstream changes a request's principal, so requests of one caller can share it.
    private static readonly ConditionalWeakTable<Caller, Task<AuthenticateResult>> Results = new();

    private static Task<AuthenticateResult> Authenticated(Caller caller) => Results.GetValue(caller, static caller =>
    {
        var identity = new ClaimsIdentity(SchemeName);
        identity.AddClaim(new Claim("tenant_key", caller.TenantKey));
        identity.AddClaim(new Claim("app_id", caller.AppId));
        if (caller.UserId is not null) identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, caller.UserId));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    });

    private AuthenticateResult Refuse(FeishuException refusal)
    {
        Context.Features.Set(refusal);
        return AuthenticateResult.Fail(refusal.Message);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WireErrors.WriteAsync(Context, Context.Features.Get<FeishuException>() ?? new FeishuException(FeishuErrors.MissingAccessToken));
}
