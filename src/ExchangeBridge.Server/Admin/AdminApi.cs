using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Admin;

public sealed record TenantView(string TenantKey, string Name);
public sealed record TenantList(IReadOnlyList<TenantView> Items);
public sealed record AppCreated(string AppId, string AppSecret, string TenantKey, string Name, IReadOnlyList<string> Scopes, bool BotEnabled);
/// <summary>An app's settings after a change (never its secret).</summary>
public sealed record AppSettingsView(string AppId, string TenantKey, bool BotEnabled);
public sealed record OpenIdView(string AppId, string OpenId);
public sealed record UserView(string TenantKey, string UserId, string UnionId, string Name, string? Email, bool IsSuperAdmin,
    bool Resigned, IReadOnlyList<OpenIdView> OpenIds);
/// <summary>An Exchange admin account as operators see it: which kind of credential it holds (secret or certificate), never the credential.</summary>
public sealed record AdminAccountView(string Email, string TenantKey, string Connector, string Endpoint, string Username,
    string Credential, bool AllowCleartextPassword, string VerificationState, string? VerificationError);
public sealed record AuthorizationCodeView(string Code, int ExpiresIn);
/// <summary>One calendar's import; <c>sync_error</c> is its folder's own last fault (the binding's other calendars sync on).</summary>
public sealed record CalendarProgressView(string CalendarId, string Summary, bool IsPrimary, bool WindowDone, bool HistoryDone, bool HasSyncState,
    long Events, string? SyncError);
/// <summary>A job as operators see it; <c>lease_owner</c> names the instance ("pid:…@host") running it right now.</summary>
public sealed record JobProgressView(long Id, string Kind, string State, int Attempts, long RunAt, string? LastError, string? LeaseOwner);
/// <summary>
/// A binding's import as operators see it. A sync that is late keeps its status (done stays done): <c>last_synced_at</c>
/// says how late, <c>last_error</c> (and when) why, <c>attempts</c> how many tries since the last success and
/// <c>next_attempt_at</c> when the next one runs (milliseconds since the epoch).
/// </summary>
public sealed record BindingDiagnostics(string ExchangeBindingId, string Status, string? ErrorReason, long? LastSyncedAt,
    long? NextAttemptAt, int Attempts, string? LastError, long? LastErrorAt,
    IReadOnlyList<CalendarProgressView> Calendars, IReadOnlyList<JobProgressView> Jobs);
/// <summary>How many bindings a retry moved to the front of the queue.</summary>
public sealed record BindingsRetried(int Retried);

/// <summary>
/// The operator API (our extension, under /admin/v1, authorised by an operator key): tenants, apps, users, super
/// administrators, Exchange admin accounts, and authorization codes standing in for Feishu's login page.
/// Answers use the same {code, msg, data} envelope as the Open API.
/// </summary>
public static class AdminApi
{
    private static readonly FeishuError Invalid = FeishuErrors.OperatorInvalidRequest;

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/v1").RequireAuthorization(OperatorKeyHandler.Policy);
        admin.MapPost("/tenants", CreateTenant).WithName("CreateTenant").WithSummary("Create a tenant");
        admin.MapGet("/tenants", ListTenants).WithName("ListTenants").WithSummary("List tenants");
        admin.MapPost("/tenants/{tenant_key}/apps", CreateApp).WithName("CreateApp").WithSummary("Create an app (returns its secret once)");
        admin.MapPatch("/tenants/{tenant_key}/apps/{app_id}", UpdateApp).WithName("UpdateApp")
            .WithSummary("Turn the app's bot capability on or off (a tenant token reads calendars as the app only with it)");
        admin.MapDelete("/tenants/{tenant_key}/apps/{app_id}", DeleteApp).WithName("DeleteApp").WithSummary("Delete an app and revoke its tokens");
        admin.MapPost("/tenants/{tenant_key}/users", CreateUser).WithName("CreateUser").WithSummary("Create a user");
        admin.MapGet("/tenants/{tenant_key}/users/{user_id}", GetUser).WithName("GetUser").WithSummary("A user with its open_ids");
        admin.MapPatch("/tenants/{tenant_key}/users/{user_id}", UpdateUser).WithName("UpdateUser")
            .WithSummary("Make or unmake super administrator; resign or reinstate");
        admin.MapPut("/tenants/{tenant_key}/exchange_admin_accounts/{email}", PutAdminAccount).WithName("PutExchangeAdminAccount")
            .WithSummary("Register an Exchange admin account and verify it");
        admin.MapGet("/tenants/{tenant_key}/exchange_admin_accounts/{email}", GetAdminAccount).WithName("GetExchangeAdminAccount")
            .WithSummary("An Exchange admin account and its verification state");
        admin.MapPost("/tenants/{tenant_key}/exchange_admin_accounts/{email}/verify", VerifyAdminAccount)
            .WithName("VerifyExchangeAdminAccount").WithSummary("Verify an Exchange admin account again");
        admin.MapGet("/tenants/{tenant_key}/exchange_bindings", GetBindingDiagnostics).WithName("GetBindingDiagnostics")
            .WithSummary("A binding's import progress, jobs and failure reason (?exchange_binding_id=)");
        admin.MapPost("/tenants/{tenant_key}/exchange_bindings/retry", RetryBindings).WithName("RetryBindings")
            .WithSummary("Try again now a binding (exchange_binding_id) or every binding of the tenant that is err or retrying after a fault");
        admin.MapPost("/authorization_codes", MintAuthorizationCode).WithName("MintAuthorizationCode")
            .WithSummary("Mint a user's authorization code for an app");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<TenantView>>> CreateTenant(HttpRequest request, OperatorService operators, CancellationToken ct)
    {
        var (name, tenantKey) = await JsonBody.ReadObjectAsync(request, Invalid, b =>
            (JsonBody.RequiredString(b, "name", Invalid), JsonBody.OptionalString(b, "tenant_key", Invalid)), ct);
        return Ok(await operators.CreateTenantAsync(name, tenantKey, ct), FeishuJsonContext.Default.EnvelopeTenantView);
    }

    public static async Task<FeishuJsonResult<Envelope<TenantList>>> ListTenants(OperatorService operators, CancellationToken ct) =>
        Ok(new TenantList(await operators.ListTenantsAsync(ct)), FeishuJsonContext.Default.EnvelopeTenantList);

    public static async Task<FeishuJsonResult<Envelope<AppCreated>>> CreateApp(string tenant_key, HttpRequest request,
        OperatorService operators, CancellationToken ct)
    {
        var (name, scopes, botEnabled) = await JsonBody.ReadObjectAsync(request, Invalid, b =>
            (JsonBody.RequiredString(b, "name", Invalid), ReadScopes(b), OptionalBool(b, "bot_enabled") ?? false), ct);
        return Ok(await operators.CreateAppAsync(tenant_key, name, scopes, botEnabled, ct), FeishuJsonContext.Default.EnvelopeAppCreated);
    }

    public static async Task<FeishuJsonResult<Envelope<AppSettingsView>>> UpdateApp(string tenant_key, string app_id, HttpRequest request,
        OperatorService operators, CancellationToken ct)
    {
        var botEnabled = await JsonBody.ReadObjectAsync(request, Invalid, b =>
            OptionalBool(b, "bot_enabled") ?? throw new FeishuException(Invalid, "bot_enabled is required"), ct);
        return Ok(await operators.SetAppBotAsync(tenant_key, app_id, botEnabled, ct), FeishuJsonContext.Default.EnvelopeAppSettingsView);
    }

    public static async Task<FeishuJsonResult<Envelope<EmptyData>>> DeleteApp(string tenant_key, string app_id, OperatorService operators,
        CancellationToken ct)
    {
        await operators.DeleteAppAsync(tenant_key, app_id, ct);
        return Ok(new EmptyData(), FeishuJsonContext.Default.EnvelopeEmptyData);
    }

    public static async Task<FeishuJsonResult<Envelope<UserView>>> CreateUser(string tenant_key, HttpRequest request,
        OperatorService operators, CancellationToken ct)
    {
        var creation = await JsonBody.ReadObjectAsync(request, Invalid, b => new UserCreation(
            JsonBody.OptionalString(b, "user_id", Invalid), JsonBody.RequiredString(b, "name", Invalid), JsonBody.OptionalString(b, "email", Invalid),
            OptionalBool(b, "is_super_admin") ?? false), ct);
        return Ok(await operators.CreateUserAsync(tenant_key, creation, ct), FeishuJsonContext.Default.EnvelopeUserView);
    }

    public static async Task<FeishuJsonResult<Envelope<UserView>>> GetUser(string tenant_key, string user_id, OperatorService operators,
        CancellationToken ct) =>
        Ok(await operators.GetUserAsync(tenant_key, user_id, ct), FeishuJsonContext.Default.EnvelopeUserView);

    public static async Task<FeishuJsonResult<Envelope<UserView>>> UpdateUser(string tenant_key, string user_id, HttpRequest request,
        OperatorService operators, CancellationToken ct)
    {
        var (isSuperAdmin, resigned) = await JsonBody.ReadObjectAsync(request, Invalid, b =>
            (OptionalBool(b, "is_super_admin"), OptionalBool(b, "resigned")), ct);
        return Ok(await operators.UpdateUserAsync(tenant_key, user_id, isSuperAdmin, resigned, ct), FeishuJsonContext.Default.EnvelopeUserView);
    }

    public static async Task<FeishuJsonResult<Envelope<AdminAccountView>>> PutAdminAccount(string tenant_key, string email,
        HttpRequest request, OperatorService operators, CancellationToken ct)
    {
        var registration = await JsonBody.ReadObjectAsync(request, Invalid, b => new AdminAccountRegistration(
            JsonBody.OptionalString(b, "connector", Invalid), JsonBody.RequiredString(b, "endpoint", Invalid),
            JsonBody.OptionalString(b, "username", Invalid),
            JsonBody.OptionalString(b, "password", Invalid) ?? JsonBody.OptionalString(b, "client_secret", Invalid),
            JsonBody.OptionalString(b, "client_certificate", Invalid), JsonBody.OptionalString(b, "graph_tenant_id", Invalid),
            JsonBody.OptionalString(b, "graph_client_id", Invalid), OptionalBool(b, "allow_cleartext_password") ?? false), ct);
        return Ok(await operators.RegisterAdminAccountAsync(tenant_key, email, registration, ct), FeishuJsonContext.Default.EnvelopeAdminAccountView);
    }

    public static async Task<FeishuJsonResult<Envelope<AdminAccountView>>> GetAdminAccount(string tenant_key, string email,
        OperatorService operators, CancellationToken ct) =>
        Ok(await operators.GetAdminAccountAsync(tenant_key, email, ct), FeishuJsonContext.Default.EnvelopeAdminAccountView);

    public static async Task<FeishuJsonResult<Envelope<AdminAccountView>>> VerifyAdminAccount(string tenant_key, string email,
        OperatorService operators, CancellationToken ct) =>
        Ok(await operators.VerifyAdminAccountAsync(tenant_key, email, ct), FeishuJsonContext.Default.EnvelopeAdminAccountView);

    public static async Task<FeishuJsonResult<Envelope<AuthorizationCodeView>>> MintAuthorizationCode(HttpRequest request,
        OperatorService operators, CancellationToken ct)
    {
        var (appId, openId, userId, redirectUri) = await JsonBody.ReadObjectAsync(request, Invalid, b => (
            JsonBody.RequiredString(b, "app_id", Invalid), JsonBody.OptionalString(b, "open_id", Invalid),
            JsonBody.OptionalString(b, "user_id", Invalid), JsonBody.OptionalString(b, "redirect_uri", Invalid)), ct);
        return Ok(await operators.MintAuthorizationCodeAsync(appId, openId, userId, redirectUri, ct),
            FeishuJsonContext.Default.EnvelopeAuthorizationCodeView);
    }

    public static async Task<FeishuJsonResult<Envelope<BindingsRetried>>> RetryBindings(string tenant_key, HttpRequest request,
        OperatorService operators, CancellationToken ct)
    {
        var bindingId = await JsonBody.ReadObjectAsync(request, Invalid, b => JsonBody.OptionalString(b, "exchange_binding_id", Invalid), ct);
        return Ok(await operators.RetryBindingsAsync(tenant_key, bindingId, ct), FeishuJsonContext.Default.EnvelopeBindingsRetried);
    }

    public static async Task<FeishuJsonResult<Envelope<BindingDiagnostics>>> GetBindingDiagnostics(string tenant_key,
        string? exchange_binding_id, OperatorService operators, CancellationToken ct) =>
        Ok(await operators.GetBindingDiagnosticsAsync(tenant_key, exchange_binding_id ?? "", ct), FeishuJsonContext.Default.EnvelopeBindingDiagnostics);

    private static IReadOnlyList<string> ReadScopes(JsonElement body)
    {
        if (!body.TryGetProperty("scopes", out var value) || value.ValueKind == JsonValueKind.Null) return Scopes.Default;
        if (value.ValueKind != JsonValueKind.Array) throw new FeishuException(Invalid, "scopes must be an array of strings");
        var scopes = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 and <= 100 } scope || scope.Contains(' '))
                throw new FeishuException(Invalid, "scopes must be an array of non-empty strings without spaces");
            scopes.Add(scope);
        }
        return scopes.Distinct().ToList();
    }

    private static bool? OptionalBool(JsonElement body, string name) =>
        !body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FeishuException(Invalid, $"{name} must be a boolean"),
        };

    private static FeishuJsonResult<Envelope<T>> Ok<T>(T data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<Envelope<T>> type) =>
        FeishuJson.Result(Envelope.Success(data), type);
}
