using System.Security.Claims;
using System.Text.Encodings.Web;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Admin;

/// <summary>
/// Authenticates the operator API: <c>Authorization: Bearer &lt;operator key&gt;</c>, checked by <see cref="OperatorKeys"/>
/// (stored as SHA-256 only, compared in constant time).
/// </summary>
public sealed class OperatorKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, OperatorKeys keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "OperatorKey";
    public const string Policy = "operator";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 512)
            return AuthenticateResult.NoResult();
        if (!await keys.IsKnownAsync(header[7..].Trim(), Context.RequestAborted)) return AuthenticateResult.Fail("unknown operator key");
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, "operator")], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WireErrors.WriteAsync(Context, FeishuErrors.OperatorUnauthorized);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WireErrors.WriteAsync(Context, FeishuErrors.OperatorUnauthorized);
}
