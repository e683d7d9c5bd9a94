namespace ExchangeBridge.Core.Errors;

/// <summary>One entry of the platform's error catalog: the business code, the HTTP status it travels with, its msg.</summary>
public sealed record FeishuError(int Code, int HttpStatus, string Msg)
{
    /// <summary>The same error with its msg template ("{0}") filled in.</summary>
    public FeishuError WithArguments(params object[] arguments) => this with { Msg = string.Format(Msg, arguments) };
}

/// <summary>
/// Every error the server can answer with, in one place. Codes, statuses and messages are the platform's own
/// (the exchange-binding page's table, the generic gateway and token errors), so SDKs that switch on them work.
/// </summary>
public static class FeishuErrors
{
    // The exchange-binding page's table.
    public static readonly FeishuError InvalidParameters = new(190002, 400, "invalid parameters in request");
    public static readonly FeishuError InternalServiceError = new(190003, 500, "internal service error");
    public static readonly FeishuError MethodRateLimited = new(190004, 429, "method rate limited");
    public static readonly FeishuError AppRateLimited = new(190005, 429, "app rate limited");
    public static readonly FeishuError WrongUnitForAppTenant = new(190006, 403, "wrong unit for app tenant");
    public static readonly FeishuError AppBotNotFound = new(190007, 404, "app bot_id not found");
    public static readonly FeishuError OperationRateLimited = new(190010, 429, "current operation rate limited");
    public static readonly FeishuError UserNotInTenant = new(195100, 404, "user is dismiss or not exist in the tenant");
    public static readonly FeishuError NotSuperAdministrator = new(195101, 403, "user is not supper administrator");
    public static readonly FeishuError BindingIdInvalid = new(195102, 400, "exchange_binding_id invalid");
    public static readonly FeishuError BindingNotFound = new(195103, 404, "exchange account binding is not found");
    public static readonly FeishuError TenantMismatch = new(195104, 403, "current tenant not match");
    public static readonly FeishuError AdminAccountBindingFailed = new(195105, 403, "admin account binding failed");
    public static readonly FeishuError AdminAccountNotFound = new(195106, 404, "admin account is not found");

    // The calendar read API's own refusals.
    /// <summary>
    /// A calendar the caller holds no role on, as the platform answers it (191002, HTTP 403). An id that names no calendar
    /// gets the same answer, so an id never tells whether someone else's calendar exists; the platform's own advice for
    /// 191002 is to check the calendar id.
    /// </summary>
    public static readonly FeishuError CalendarNoAccess = new(191002, 403, "no calendar access_role");
    public static readonly FeishuError CalendarEventNotFound = new(193001, 404, "event not found");
    /// <summary>
    /// instance_view's two limits, by the codes the platform answers them with (larksuite/cli's calendar agenda splits the
    /// range on exactly these). The msgs are ours: the platform's own wording was not found in its documentation.
    /// </summary>
    public static readonly FeishuError InstanceViewRangeTooLong = new(193103, 400, "the time range exceeds the 40-day limit");
    public static readonly FeishuError InstanceViewTooManyInstances = new(193104, 400, "more than 1000 instances in the time range");
    /// <summary>A sync_token (or page_token) the list no longer knows: the client lists in full again without it.</summary>
    public static readonly FeishuError SyncTokenExpired = new(190008, 400, "page_token or sync_token expired");
    public static readonly FeishuError SyncTokenWithRestrictions = new(190009, 400, "sync token cannot be used with other request restrictions");

    // The gateway's authentication and authorisation errors (HTTP 400, as the platform's gateway answers them).
    private const string InvalidTokenMsg = "Invalid access token for authorization. Please make a request with token attached.";
    public static readonly FeishuError MissingAccessToken = new(99991661, 400,
        "Missing access token for authorization. Please make a request with token attached.");
    /// <summary>An unknown or expired tenant token, and any tenant token on an endpoint that takes user tokens only.</summary>
    public static readonly FeishuError InvalidTenantAccessToken = new(99991663, 400, InvalidTokenMsg);
    public static readonly FeishuError InvalidAppAccessToken = new(99991664, 400, InvalidTokenMsg);
    public static readonly FeishuError InvalidUserAccessToken = new(99991668, 400, InvalidTokenMsg);
    public static readonly FeishuError UserAccessTokenNotSupported = new(99991668, 400, "user access token not support");
    public static readonly FeishuError UserAccessTokenExpired = new(99991677, 400,
        "Authentication token expired. Please refresh your access token and try again.");
    public static readonly FeishuError AppScopeMissing = new(99991672, 400,
        "Access denied. One of the following scopes is required: [{0}].");
    public static readonly FeishuError RequestFrequencyLimit = new(99991400, 429, "request trigger frequency limit");

    // tenant_access_token/internal and app_access_token/internal: refusals travel with HTTP 200.
    public static readonly FeishuError TokenInvalidParam = new(10003, 200, "invalid param");
    public static readonly FeishuError AppSecretInvalid = new(10014, 200, "app secret invalid");

    // authen/v1/oidc/*: refusals travel with HTTP 200.
    public static readonly FeishuError OidcInvalidRequest = new(20001, 200, "Invalid request. Please check request param");
    public static readonly FeishuError OidcCodeInvalid = new(20003, 200,
        "The code passed is invalid. Please note that the code could only be used once");
    public static readonly FeishuError OidcCodeExpired = new(20004, 200, "The code passed has expired. Please generate a new one");
    public static readonly FeishuError OidcUserResigned = new(20021, 200, "User resigned");
    public static readonly FeishuError OidcAppMismatch = new(20024, 200,
        "App id in user_access_token or refresh_token diff with app id in app_access_token or tenant_access_token. Please keep the app id consistent");
    public static readonly FeishuError OidcGrantTypeUnsupported = new(20036, 200, "The grant_type passed is not supported");
    public static readonly FeishuError OidcRefreshTokenExpired = new(20037, 200, "The refresh token passed has expired. Please generate a new one");
    public static readonly FeishuError OidcRefreshTokenInvalid = new(20038, 200, "The refresh token passed is invalid. Please check the value");

    // authen/v2/oauth/token (RFC 6749 shaped: {code, error, error_description}, HTTP 400).
    public static readonly FeishuError OAuthMissingParameter = new(20001, 400, "The request is missing a required parameter.");
    public static readonly FeishuError OAuthClientSecretInvalid = new(20002, 400, "The client secret is invalid.");
    public static readonly FeishuError OAuthCodeNotFound = new(20003, 400,
        "The authorization code is not found. Please note that an authorization code can only be used once.");
    public static readonly FeishuError OAuthCodeExpired = new(20004, 400, "The authorization code has expired.");
    public static readonly FeishuError OAuthUserStatusInvalid = new(20066, 400, "The user status is invalid.");
    public static readonly FeishuError OAuthClientMismatch = new(20024, 400,
        "The provided authorization code or refresh token does not match the provided client ID.");
    public static readonly FeishuError OAuthRefreshTokenInvalid = new(20026, 400, "The refresh token passed is invalid. Please check the value.");
    public static readonly FeishuError OAuthRefreshTokenExpired = new(20037, 400, "The refresh token passed has expired. Please generate a new one.");
    public static readonly FeishuError OAuthGrantTypeUnsupported = new(20036, 400, "The specified grant_type is not supported.");
    public static readonly FeishuError OAuthAppNotFound = new(20048, 400, "The specified app does not exist.");
    public static readonly FeishuError OAuthMalformed = new(20063, 400, "The request is malformed. Please check your request.");
    public static readonly FeishuError OAuthRedirectMismatch = new(20071, 400,
        "The provided redirect URI does not match the one used during authorization.");

    // The operator API under /admin/v1 (our extension; codes outside the platform's ranges).
    public static readonly FeishuError OperatorUnauthorized = new(40100, 401, "operator key missing or invalid");
    public static readonly FeishuError OperatorInvalidRequest = new(40000, 400, "invalid request");
    public static readonly FeishuError OperatorNotFound = new(40400, 404, "not found");
    public static readonly FeishuError OperatorConflict = new(40900, 409, "already exists");

    /// <summary>The RFC 6749 error word that travels beside a v2 OAuth code.</summary>
    public static string OAuthErrorWord(FeishuError error) => error.Code switch
    {
        20001 or 20063 => "invalid_request",
        20002 or 20048 => "invalid_client",
        20036 => "unsupported_grant_type",
        _ => "invalid_grant",
    };
}
