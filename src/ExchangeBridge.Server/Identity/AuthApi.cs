using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.RateLimits;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ExchangeBridge.Server.Identity;

public sealed record TenantAccessTokenResponse(int Code, string Msg, string TenantAccessToken, int Expire);

public sealed record AppAccessTokenResponse(int Code, string Msg, string AppAccessToken, int Expire, string TenantAccessToken);

public sealed record OidcTokenData(
    string AccessToken, string RefreshToken, string TokenType, int ExpiresIn, int RefreshExpiresIn, string Scope);

public sealed record OAuthTokenResponse(
    int Code, string AccessToken, int ExpiresIn, string RefreshToken, int RefreshTokenExpiresIn, string TokenType, string Scope);

public sealed record OAuthErrorResponse(int Code, string Error, string ErrorDescription);

/// <summary>The token endpoints the SDKs call, each answering in its own documented shape.</summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var v3 = app.MapGroup("/open-apis/auth/v3");
        // Routing matches these with or without the trailing slash some clients send, as the platform does. Called before
        // nearly every other call, they are plain RequestDelegates with their services at hand: the same route, metadata
        // and filters (a filter gets the framework's binder around them), without a generated binder per request.
        var tokens = app.ServiceProvider.GetRequiredService<TokenService>();
        var limiter = app.ServiceProvider.GetRequiredService<RateLimiter>();
        v3.MapPost("/tenant_access_token/internal", context => IssueTenantAccessToken(context.Request, tokens, limiter, context.RequestAborted))
            .WithName("IssueTenantAccessToken").WithSummary("Tenant token of a self-built app");
        v3.MapPost("/app_access_token/internal", context => IssueAppAccessToken(context.Request, tokens, limiter, context.RequestAborted))
            .WithName("IssueAppAccessToken").WithSummary("App token of a self-built app");

        var oidc = app.MapGroup("/open-apis/authen/v1/oidc").RequireAuthorization(Policies.ExchangeCode);
        oidc.MapPost("/access_token", RedeemCode).WithName("OidcAccessToken").WithSummary("User token from an authorization code");
        oidc.MapPost("/refresh_access_token", RefreshUserToken).WithName("OidcRefreshAccessToken").WithSummary("Refresh a user token");

        app.MapPost("/open-apis/authen/v2/oauth/token", OAuthToken)
            .WithName("OAuthToken").WithSummary("User token, OAuth 2.0 style (authorization_code or refresh_token)");
        return app;
    }

    public static async Task IssueTenantAccessToken(HttpRequest request, TokenService tokens, RateLimiter limiter, CancellationToken ct)
    {
        var app = await AuthenticateAppAsync(request, tokens, limiter, ct);
        var issued = await tokens.IssueAppScopedTokenAsync(app, TokenKind.Tenant, ct);
        await FeishuJson.WriteAsync(request.HttpContext.Response, new TenantAccessTokenResponse(0, "ok", issued.Token, issued.ExpiresInSeconds),
            FeishuJsonContext.Default.TenantAccessTokenResponse, ct);
    }

    public static async Task IssueAppAccessToken(HttpRequest request, TokenService tokens, RateLimiter limiter, CancellationToken ct)
    {
        var app = await AuthenticateAppAsync(request, tokens, limiter, ct);
        var appToken = await tokens.IssueAppScopedTokenAsync(app, TokenKind.App, ct);
        var tenantToken = await tokens.IssueAppScopedTokenAsync(app, TokenKind.Tenant, ct);
        await FeishuJson.WriteAsync(request.HttpContext.Response,
            new AppAccessTokenResponse(0, "ok", appToken.Token, appToken.ExpiresInSeconds, tenantToken.Token),
            FeishuJsonContext.Default.AppAccessTokenResponse, ct);
    }

    public static async Task<FeishuJsonResult<Envelope<OidcTokenData>>> RedeemCode(
        HttpContext context, TokenService tokens, CancellationToken ct)
    {
        // redirect_uri is not among the endpoint's documented fields; a code minted with one must name it here too.
        var (grantType, code, redirectUri) = await JsonBody.ReadObjectAsync(context.Request, FeishuErrors.OidcInvalidRequest, body => (
            JsonBody.OptionalString(body, "grant_type", FeishuErrors.OidcInvalidRequest),
            JsonBody.OptionalString(body, "code", FeishuErrors.OidcInvalidRequest),
            JsonBody.OptionalString(body, "redirect_uri", FeishuErrors.OidcInvalidRequest)), ct);
        if (grantType != "authorization_code") throw new FeishuException(FeishuErrors.OidcGrantTypeUnsupported);
        if (string.IsNullOrEmpty(code)) throw new FeishuException(FeishuErrors.OidcInvalidRequest, "code is required");
        return OidcAnswer(await tokens.RedeemCodeAsync(Caller.Of(context).AppId, code, redirectUri, ct));
    }

    public static async Task<FeishuJsonResult<Envelope<OidcTokenData>>> RefreshUserToken(
        HttpContext context, TokenService tokens, CancellationToken ct)
    {
        var (grantType, refreshToken) = await JsonBody.ReadObjectAsync(context.Request, FeishuErrors.OidcInvalidRequest, body => (
            JsonBody.OptionalString(body, "grant_type", FeishuErrors.OidcInvalidRequest),
            JsonBody.OptionalString(body, "refresh_token", FeishuErrors.OidcInvalidRequest)), ct);
        if (grantType != "refresh_token") throw new FeishuException(FeishuErrors.OidcGrantTypeUnsupported);
        if (string.IsNullOrEmpty(refreshToken)) throw new FeishuException(FeishuErrors.OidcInvalidRequest, "refresh_token is required");
        return OidcAnswer(await tokens.RefreshAsync(Caller.Of(context).AppId, refreshToken, ct));
    }

    public static async Task<Results<FeishuJsonResult<OAuthTokenResponse>, FeishuJsonResult<OAuthErrorResponse>>> OAuthToken(
        HttpRequest request, TokenService tokens, RateLimiter limiter, CancellationToken ct)
    {
        OAuthTokenRequest body;
        try
        {
            body = await JsonBody.ReadObjectAsync(request, FeishuErrors.OAuthMalformed, OAuthTokenRequest.Read, ct);
        }
        catch (FeishuException e)
        {
            return OAuthError(e.Error, e.Detail);
        }
        if (string.IsNullOrEmpty(body.GrantType) || string.IsNullOrEmpty(body.ClientId) || string.IsNullOrEmpty(body.ClientSecret))
            return OAuthError(FeishuErrors.OAuthMissingParameter);
        if (body.GrantType is not ("authorization_code" or "refresh_token"))
            return OAuthError(FeishuErrors.OAuthGrantTypeUnsupported);

        Storage.AppRecord app;
        try
        {
            app = await AuthenticateLimitedAsync(request.HttpContext, tokens, limiter, body.ClientId, body.ClientSecret, ct);
        }
        catch (FeishuException e) when (e.Error != FeishuErrors.RequestFrequencyLimit)
        {
            return OAuthError(e.Error == FeishuErrors.AppSecretInvalid ? FeishuErrors.OAuthClientSecretInvalid : FeishuErrors.OAuthAppNotFound);
        }

        var grant = body.GrantType == "authorization_code"
            ? string.IsNullOrEmpty(body.Code) ? null : await tokens.RedeemCodeAsync(app.AppId, body.Code, body.RedirectUri, ct)
            : string.IsNullOrEmpty(body.RefreshToken) ? null : await tokens.RefreshAsync(app.AppId, body.RefreshToken, ct);
        if (grant is null) return OAuthError(FeishuErrors.OAuthMissingParameter);
        if (grant.Tokens is not { } t)
            return OAuthError(grant.Failure switch
            {
                GrantFailure.CodeExpired => FeishuErrors.OAuthCodeExpired,
                GrantFailure.AppMismatch => FeishuErrors.OAuthClientMismatch,
                GrantFailure.RedirectMismatch => FeishuErrors.OAuthRedirectMismatch,
                GrantFailure.UserResigned => FeishuErrors.OAuthUserStatusInvalid,
                GrantFailure.RefreshInvalid => FeishuErrors.OAuthRefreshTokenInvalid,
                GrantFailure.RefreshExpired => FeishuErrors.OAuthRefreshTokenExpired,
                _ => FeishuErrors.OAuthCodeNotFound,
            });
        return FeishuJson.Result(
            new OAuthTokenResponse(0, t.AccessToken, t.ExpiresIn, t.RefreshToken, t.RefreshExpiresIn, "Bearer", t.Scope),
            FeishuJsonContext.Default.OAuthTokenResponse);
    }

    private static readonly JsonStringFields AppCredentials = new("app_id", "app_secret");

    private static async Task<Storage.AppRecord> AuthenticateAppAsync(HttpRequest request, TokenService tokens, RateLimiter limiter, CancellationToken ct)
    {
        var credentials = await JsonBody.ReadStringsAsync(request, FeishuErrors.TokenInvalidParam, AppCredentials, ct);
        return await AuthenticateLimitedAsync(request.HttpContext, tokens, limiter, credentials[0], credentials[1], ct);
    }

    /// <summary>
    /// Authenticates an app under the token endpoints' limits, counting wrong secrets towards a lock-out. A request that
    /// names no app is refused before any counter: counting unknown app_ids would keep state for whatever a caller sends.
    /// </summary>
    private static async Task<Storage.AppRecord> AuthenticateLimitedAsync(HttpContext context, TokenService tokens, RateLimiter limiter,
        string? appId, string? appSecret, CancellationToken ct)
    {
        var presented = await tokens.FindPresentedAppAsync(appId, appSecret, ct);
        await limiter.CheckTokenRequestAsync(context, presented.App.AppId, ct);
        try
        {
            return TokenService.VerifySecret(presented);
        }
        catch (FeishuException e) when (e.Error == FeishuErrors.AppSecretInvalid)
        {
            await limiter.RecordTokenFailureAsync(context, presented.App.AppId, ct);
            throw;
        }
    }

    private static FeishuJsonResult<Envelope<OidcTokenData>> OidcAnswer(GrantResult grant)
    {
        if (grant.Failure == GrantFailure.RedirectMismatch)
            throw new FeishuException(FeishuErrors.OidcInvalidRequest, "redirect_uri does not match the one the code was issued for");
        if (grant.Tokens is not { } t)
            throw new FeishuException(grant.Failure switch
            {
                GrantFailure.CodeExpired => FeishuErrors.OidcCodeExpired,
                GrantFailure.AppMismatch => FeishuErrors.OidcAppMismatch,
                GrantFailure.UserResigned => FeishuErrors.OidcUserResigned,
                GrantFailure.RefreshInvalid => FeishuErrors.OidcRefreshTokenInvalid,
                GrantFailure.RefreshExpired => FeishuErrors.OidcRefreshTokenExpired,
                _ => FeishuErrors.OidcCodeInvalid,
            });
        return FeishuJson.Result(
            Envelope.Success(new OidcTokenData(t.AccessToken, t.RefreshToken, "Bearer", t.ExpiresIn, t.RefreshExpiresIn, t.Scope)),
            FeishuJsonContext.Default.EnvelopeOidcTokenData);
    }

    private static FeishuJsonResult<OAuthErrorResponse> OAuthError(FeishuError error, string? detail = null) =>
        FeishuJson.Result(
            new OAuthErrorResponse(error.Code, FeishuErrors.OAuthErrorWord(error), detail is null ? error.Msg : $"{error.Msg} ({detail})"),
            FeishuJsonContext.Default.OAuthErrorResponse, statusCode: error.HttpStatus);

    private sealed record OAuthTokenRequest(
        string? GrantType, string? ClientId, string? ClientSecret, string? Code, string? RedirectUri, string? RefreshToken)
    {
        public static OAuthTokenRequest Read(JsonElement body)
        {
            string? Field(string name) => JsonBody.OptionalString(body, name, FeishuErrors.OAuthMalformed);
            return new OAuthTokenRequest(Field("grant_type"), Field("client_id"), Field("client_secret"), Field("code"),
                Field("redirect_uri"), Field("refresh_token"));
        }
    }
}
