using System.Security.Claims;
using System.Text.Encodings.Web;
using Dapper;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Admin;

/// <summary>
/// Authenticates the operator API: <c>Authorization: Bearer &lt;operator key&gt;</c>, looked up by its SHA-256,
/// so the key itself is never stored nor compared byte by byte.
/// </summary>
public sealed class OperatorKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IDatabase database)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "OperatorKey";
    public const string Policy = "operator";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 512)
            return AuthenticateResult.NoResult();
        var hash = OpaqueSecrets.Hash(header[7..].Trim());
        await using var c = await database.OpenAsync(Context.RequestAborted);
        var known = await c.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT 1 FROM operator_keys WHERE key_hash = @hash", new { hash }, cancellationToken: Context.RequestAborted));
        if (known is null) return AuthenticateResult.Fail("unknown operator key");
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, "operator")], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WireErrors.WriteAsync(Context, FeishuErrors.OperatorUnauthorized);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WireErrors.WriteAsync(Context, FeishuErrors.OperatorUnauthorized);
}
