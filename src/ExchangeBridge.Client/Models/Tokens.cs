namespace ExchangeBridge.Client;

/// <summary>A user's tokens, as the OIDC endpoints issue them, with when the access token expires.</summary>
public sealed record UserTokens(string AccessToken, string RefreshToken, DateTimeOffset ExpiresAt, DateTimeOffset RefreshExpiresAt, string Scope);

internal sealed record TenantAccessTokenResponse(int Code, string? Msg, string? TenantAccessToken, int Expire);

internal sealed record OidcTokenData(string AccessToken, string RefreshToken, string? TokenType, int ExpiresIn, int RefreshExpiresIn, string? Scope);

internal sealed record AppCredentials(string AppId, string AppSecret);

internal sealed record OidcCodeGrant(string GrantType, string Code);

internal sealed record OidcRefreshGrant(string GrantType, string RefreshToken);
