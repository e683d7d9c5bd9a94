using ExchangeBridge.Core.Identity;

namespace ExchangeBridge.Server.Identity;

/// <summary>
/// Who is calling, as the bearer token says: its kind, tenant and app (with its scopes and whether it has the bot
/// capability), and for a user token the user with the standing (super administrator, resigned) that the authorisation
/// policies read.
/// </summary>
public sealed record Caller(
    TokenKind Kind,
    string TenantKey,
    string AppId,
    string? UserId,
    bool IsSuperAdmin,
    bool IsResigned,
    IReadOnlySet<string> AppScopes,
    long ExpiresAtMs,
    bool AppHasBot)
{
    public static Caller Of(HttpContext context) =>
        context.Features.Get<Caller>() ?? throw new InvalidOperationException("The endpoint is not authenticated.");
}
