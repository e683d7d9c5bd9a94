namespace ExchangeBridge.Client;

// The shapes of ExchangeBridge's operator API (/admin/v1), as docs/admin-api.md lists them.

public sealed record Tenant(string TenantKey, string Name);

public sealed record CreateTenantRequest(string Name, string? TenantKey = null);

/// <summary>A new app; <see cref="AppSecret"/> is shown this once.</summary>
public sealed record CreatedApp(string AppId, string AppSecret, string TenantKey, string Name, IReadOnlyList<string> Scopes);

public sealed record CreateAppRequest(string Name, IReadOnlyList<string>? Scopes = null);

public sealed record UserOpenId(string AppId, string OpenId);

public sealed record OperatorUser(string TenantKey, string UserId, string UnionId, string Name, string? Email, bool IsSuperAdmin,
    bool Resigned, IReadOnlyList<UserOpenId> OpenIds)
{
    /// <summary>The user's open_id for an app, or null when the app is not of the user's tenant.</summary>
    public string? OpenIdFor(string appId) => OpenIds.FirstOrDefault(o => o.AppId == appId)?.OpenId;
}

public sealed record CreateUserRequest(string Name, string? UserId = null, string? Email = null, bool? IsSuperAdmin = null);

public sealed record UpdateUserRequest(bool? IsSuperAdmin = null, bool? Resigned = null);

/// <summary>
/// An Exchange admin account to register: <c>connector</c> <c>ews</c> (endpoint, username, password) or <c>graph</c>
/// (endpoint, client_secret, graph_tenant_id, graph_client_id). An EWS password goes to a plain http:// endpoint only
/// with <c>AllowCleartextPassword</c>: it travels in clear.
/// </summary>
public sealed record ExchangeAdminAccountRequest(
    string Endpoint, string? Connector = null, string? Username = null, string? Password = null, string? ClientSecret = null,
    string? GraphTenantId = null, string? GraphClientId = null, bool? AllowCleartextPassword = null);

public sealed record ExchangeAdminAccount(string Email, string TenantKey, string Connector, string Endpoint, string? Username,
    string VerificationState, string? VerificationError);

public sealed record MintAuthorizationCodeRequest(string AppId, string? OpenId = null, string? UserId = null, string? RedirectUri = null);

/// <summary>A single-use authorization code, standing in for Feishu's login page.</summary>
public sealed record AuthorizationCode(string Code, int ExpiresIn);

/// <summary>One calendar's import; <see cref="SyncError"/> is its folder's own last fault (the binding's other calendars sync on).</summary>
public sealed record BindingCalendarProgress(string CalendarId, string Summary, bool IsPrimary, bool WindowDone, bool HistoryDone,
    bool HasSyncState, long Events, string? SyncError = null);

public sealed record BindingJob(long Id, string Kind, string State, int Attempts, long RunAt, string? LastError, string? LeaseOwner);

/// <summary>
/// A binding's import as operators see it: status, why it is err, and how its sync stands (a late sync keeps its status:
/// when it last went through, the last error and when, attempts since, the next attempt; times in milliseconds since the
/// epoch), calendars and jobs.
/// </summary>
public sealed record BindingDiagnostics(string ExchangeBindingId, string Status, string? ErrorReason, long? LastSyncedAt,
    long? NextAttemptAt, int Attempts, string? LastError, long? LastErrorAt,
    IReadOnlyList<BindingCalendarProgress> Calendars, IReadOnlyList<BindingJob> Jobs);

/// <summary>What to try again now: one binding, or (null) every binding of the tenant that is err or retrying after a fault.</summary>
public sealed record RetryBindingsRequest(string? ExchangeBindingId = null);

/// <summary>How many bindings a retry moved to the front of the queue.</summary>
public sealed record BindingsRetried(int Retried);

/// <summary>An app's event settings: where its events go. The encrypt key is write-only (<see cref="EventSettings.HasEncryptKey"/>).</summary>
public sealed record EventSettingsRequest(string RequestUrl, string VerificationToken, string? EncryptKey = null,
    IReadOnlyList<string>? EventTypes = null);

public sealed record EventSettings(string AppId, string RequestUrl, string VerificationToken, bool HasEncryptKey, IReadOnlyList<string> EventTypes,
    long VerifiedAt);

/// <summary>One event pushed (or to be pushed) to an app: <c>pending</c>, <c>delivered</c> or <c>failed</c> (retries ran out); times in ms.</summary>
public sealed record EventDelivery(long Id, string EventId, string AppId, string EventType, string State, int Attempts, long CreateTime,
    long NextAttemptAt, long? DeliveredAt, string? LastError, long UpdatedAt);

internal sealed record EventDeliveryList(IReadOnlyList<EventDelivery> Items);

internal sealed record TenantList(IReadOnlyList<Tenant> Items);

internal sealed record EmptyData;
