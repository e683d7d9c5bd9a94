using System.Text.Json;
using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Bindings;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;
using Microsoft.AspNetCore.Http.HttpResults;

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

    public static async Task<FeishuJsonResult<Envelope<TenantView>>> CreateTenant(
        HttpRequest request, AdminStore store, TimeProvider clock, CancellationToken ct)
    {
        var (name, tenantKey) = await JsonBody.ReadObjectAsync(request, Invalid, b =>
            (RequiredName(b, "name"), JsonBody.OptionalString(b, "tenant_key", Invalid)), ct);
        tenantKey ??= AdminStore.NewTenantKey();
        CheckIdentifier("tenant_key", tenantKey);
        await Unique(() => store.CreateTenantAsync(tenantKey, name, Now(clock), ct), request, "tenant_key");
        return Ok(new TenantView(tenantKey, name), FeishuJsonContext.Default.EnvelopeTenantView);
    }

    public static async Task<FeishuJsonResult<Envelope<TenantList>>> ListTenants(AdminStore store, CancellationToken ct)
    {
        var tenants = await store.ListTenantsAsync(ct);
        return Ok(new TenantList(tenants.Select(t => new TenantView(t.TenantKey, t.Name)).ToList()),
            FeishuJsonContext.Default.EnvelopeTenantList);
    }

    public static async Task<FeishuJsonResult<Envelope<AppCreated>>> CreateApp(string tenant_key, HttpRequest request,
        AdminStore store, SecretProtector protector, TimeProvider clock, CancellationToken ct)
    {
        await RequireTenant(store, tenant_key, ct);
        var (name, scopes, botEnabled) = await JsonBody.ReadObjectAsync(request, Invalid, b =>
            (RequiredName(b, "name"), ReadScopes(b), OptionalBool(b, "bot_enabled") ?? false), ct);
        var appId = AdminStore.NewAppId();
        var secret = OpaqueSecrets.NewAlphanumeric(32);
        await store.CreateAppAsync(appId, tenant_key, name, protector.Protect(secret), string.Join(' ', scopes), botEnabled, Now(clock), ct);
        return Ok(new AppCreated(appId, secret, tenant_key, name, scopes, botEnabled), FeishuJsonContext.Default.EnvelopeAppCreated);
    }

    public static async Task<FeishuJsonResult<Envelope<AppSettingsView>>> UpdateApp(string tenant_key, string app_id, HttpRequest request,
        AdminStore store, CancellationToken ct)
    {
        var botEnabled = await JsonBody.ReadObjectAsync(request, Invalid, b =>
            OptionalBool(b, "bot_enabled") ?? throw new FeishuException(Invalid, "bot_enabled is required"), ct);
        if (!await store.SetAppBotAsync(tenant_key, app_id, botEnabled, ct)) throw new FeishuException(FeishuErrors.OperatorNotFound, "app");
        return Ok(new AppSettingsView(app_id, tenant_key, botEnabled), FeishuJsonContext.Default.EnvelopeAppSettingsView);
    }

    public static async Task<FeishuJsonResult<Envelope<EmptyData>>> DeleteApp(string tenant_key, string app_id, AdminStore store,
        TimeProvider clock, CancellationToken ct)
    {
        if (!await store.DeleteAppAsync(tenant_key, app_id, Now(clock), ct)) throw new FeishuException(FeishuErrors.OperatorNotFound, "app");
        return Ok(new EmptyData(), FeishuJsonContext.Default.EnvelopeEmptyData);
    }

    public static async Task<FeishuJsonResult<Envelope<UserView>>> CreateUser(string tenant_key, HttpRequest request,
        AdminStore store, TimeProvider clock, CancellationToken ct)
    {
        await RequireTenant(store, tenant_key, ct);
        var user = await JsonBody.ReadObjectAsync(request, Invalid, b => new UserRecord
        {
            TenantKey = tenant_key,
            UserId = JsonBody.OptionalString(b, "user_id", Invalid) ?? AdminStore.NewUserId(),
            UnionId = AdminStore.NewUnionId(),
            Name = RequiredName(b, "name"),
            Email = JsonBody.OptionalString(b, "email", Invalid),
            IsSuperAdmin = OptionalBool(b, "is_super_admin") ?? false,
        }, ct);
        CheckIdentifier("user_id", user.UserId);
        if (user.Email is not null && !EmailAddress.IsValid(user.Email)) throw new FeishuException(Invalid, "email is not an email address");
        await Unique(() => store.CreateUserAsync(user, Now(clock), ct), request, "user_id");
        return await GetUser(tenant_key, user.UserId, store, ct);
    }

    public static async Task<FeishuJsonResult<Envelope<UserView>>> GetUser(string tenant_key, string user_id, AdminStore store,
        CancellationToken ct)
    {
        var found = await store.FindUserAsync(tenant_key, user_id, ct) ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "user");
        var (u, openIds) = found;
        return Ok(new UserView(u.TenantKey, u.UserId, u.UnionId, u.Name, u.Email, u.IsSuperAdmin, u.ResignedAt is not null,
            openIds.Select(o => new OpenIdView(o.AppId, o.OpenId)).ToList()), FeishuJsonContext.Default.EnvelopeUserView);
    }

    public static async Task<FeishuJsonResult<Envelope<UserView>>> UpdateUser(string tenant_key, string user_id, HttpRequest request,
        AdminStore store, TimeProvider clock, CancellationToken ct)
    {
        var (isSuperAdmin, resigned) = await JsonBody.ReadObjectAsync(request, Invalid, b =>
            (OptionalBool(b, "is_super_admin"), OptionalBool(b, "resigned")), ct);
        if (!await store.UpdateUserAsync(tenant_key, user_id, isSuperAdmin, resigned, Now(clock), ct))
            throw new FeishuException(FeishuErrors.OperatorNotFound, "user");
        return await GetUser(tenant_key, user_id, store, ct);
    }

    public static async Task<FeishuJsonResult<Envelope<AdminAccountView>>> PutAdminAccount(string tenant_key, string email,
        HttpRequest request, AdminStore store, SecretProtector protector, AdminAccountVerifier verifier, JobStore jobs,
        Import.ImportWorker worker, CancellationToken ct, TimeProvider clock)
    {
        await RequireTenant(store, tenant_key, ct);
        if (!EmailAddress.IsValid(email)) throw new FeishuException(Invalid, "email is not an email address");
        var account = await JsonBody.ReadObjectAsync(request, Invalid, b =>
        {
            var connector = JsonBody.OptionalString(b, "connector", Invalid) ?? AdminAccounts.Ews;
            if (!AdminAccounts.TryParseConnector(connector, out _)) throw new FeishuException(Invalid, "connector must be ews or graph");
            var endpoint = JsonBody.RequiredString(b, "endpoint", Invalid);
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new FeishuException(Invalid, "endpoint must be an http(s) URL");
            var secret = JsonBody.OptionalString(b, "password", Invalid) ?? JsonBody.OptionalString(b, "client_secret", Invalid);
            var certificate = JsonBody.OptionalString(b, "client_certificate", Invalid);
            if (certificate is not null)
            {
                if (connector != AdminAccounts.Graph || secret is not null)
                    throw new FeishuException(Invalid, "client_certificate is a graph credential, given instead of client_secret");
                if (!AdminAccounts.IsUsableCertificate(certificate))
                    throw new FeishuException(Invalid, "client_certificate must be a PEM certificate followed by its unencrypted RSA private key");
            }
            else if (secret is null) throw new FeishuException(Invalid, "password (ews), client_secret or client_certificate (graph) is required");
            return new AdminAccountRecord
            {
                Email = EmailAddress.Normalize(email),
                TenantKey = tenant_key,
                Connector = connector,
                Endpoint = endpoint,
                Username = JsonBody.OptionalString(b, "username", Invalid) ?? email,
                SecretProtected = protector.Protect(certificate ?? secret!),
                CredentialKind = certificate is null ? AdminAccounts.SecretCredential : AdminAccounts.CertificateCredential,
                GraphTenantId = JsonBody.OptionalString(b, "graph_tenant_id", Invalid),
                GraphClientId = JsonBody.OptionalString(b, "graph_client_id", Invalid),
                AllowCleartextPassword = OptionalBool(b, "allow_cleartext_password") ?? false,
            };
        }, ct);
        (account.VerificationState, account.VerificationError) = await verifier.VerifyAsync(account, ct);
        if (!await store.UpsertAdminAccountAsync(account, Now(clock), ct))
            throw new FeishuException(FeishuErrors.OperatorConflict, "the admin account is registered to another tenant");
        await RetryBindingsOfVerifiedAsync(account, jobs, worker, clock, ct);
        return Ok(View(account), FeishuJsonContext.Default.EnvelopeAdminAccountView);
    }

    public static async Task<FeishuJsonResult<Envelope<AdminAccountView>>> GetAdminAccount(string tenant_key, string email,
        AdminStore store, CancellationToken ct) =>
        Ok(View(await RequireAdminAccount(store, tenant_key, email, ct)), FeishuJsonContext.Default.EnvelopeAdminAccountView);

    public static async Task<FeishuJsonResult<Envelope<AdminAccountView>>> VerifyAdminAccount(string tenant_key, string email,
        AdminStore store, AdminAccountVerifier verifier, JobStore jobs, Import.ImportWorker worker, TimeProvider clock, CancellationToken ct)
    {
        var account = await RequireAdminAccount(store, tenant_key, email, ct);
        (account.VerificationState, account.VerificationError) = await verifier.VerifyAsync(account, ct);
        await store.SetVerificationAsync(account.Email, account.VerificationState, account.VerificationError, Now(clock), ct);
        await RetryBindingsOfVerifiedAsync(account, jobs, worker, clock, ct);
        return Ok(View(account), FeishuJsonContext.Default.EnvelopeAdminAccountView);
    }

    public static async Task<FeishuJsonResult<Envelope<AuthorizationCodeView>>> MintAuthorizationCode(HttpRequest request,
        IdentityStore identities, AdminStore store, TokenService tokens, Microsoft.Extensions.Options.IOptions<Hosting.ServerOptions> options,
        CancellationToken ct)
    {
        var (appId, openId, userId, redirectUri) = await JsonBody.ReadObjectAsync(request, Invalid, b => (
            JsonBody.RequiredString(b, "app_id", Invalid), JsonBody.OptionalString(b, "open_id", Invalid),
            JsonBody.OptionalString(b, "user_id", Invalid), JsonBody.OptionalString(b, "redirect_uri", Invalid)), ct);
        var app = await identities.FindAppAsync(appId, ct) ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "app");
        var resolvedUserId = openId is not null ? await store.FindUserIdByOpenIdAsync(appId, openId, ct)
            : userId is not null && await store.FindUserAsync(app.TenantKey, userId, ct) is not null ? userId
            : throw new FeishuException(Invalid, "open_id or user_id is required");
        if (resolvedUserId is null) throw new FeishuException(FeishuErrors.OperatorNotFound, "user");
        var code = await tokens.MintAuthorizationCodeAsync(app, resolvedUserId, redirectUri, ct);
        return Ok(new AuthorizationCodeView(code, options.Value.AuthorizationCodeLifetimeSeconds),
            FeishuJsonContext.Default.EnvelopeAuthorizationCodeView);
    }

    /// <summary>An account that verifies (registered again, or verified again) may be what its bindings in err waited for.</summary>
    private static async Task RetryBindingsOfVerifiedAsync(AdminAccountRecord account, JobStore jobs, Import.ImportWorker worker,
        TimeProvider clock, CancellationToken ct)
    {
        if (account.VerificationState != AdminAccountStates.Verified) return;
        if (await jobs.RetryNowAsync(account.TenantKey, null, account.Email, Now(clock), ct) > 0) worker.Wake();
    }

    public static async Task<FeishuJsonResult<Envelope<BindingsRetried>>> RetryBindings(string tenant_key, HttpRequest request,
        AdminStore store, BindingStore bindings, JobStore jobs, Import.ImportWorker worker, TimeProvider clock, CancellationToken ct)
    {
        await RequireTenant(store, tenant_key, ct);
        var bindingId = await JsonBody.ReadObjectAsync(request, Invalid, b => JsonBody.OptionalString(b, "exchange_binding_id", Invalid), ct);
        long? bindingKey = null;
        if (bindingId is not null)
            bindingKey = (await RequireBinding(bindings, tenant_key, bindingId, ct)).Id;
        var retried = await jobs.RetryNowAsync(tenant_key, bindingKey, null, Now(clock), ct);
        if (retried > 0) worker.Wake();
        return Ok(new BindingsRetried(retried), FeishuJsonContext.Default.EnvelopeBindingsRetried);
    }

    public static async Task<FeishuJsonResult<Envelope<BindingDiagnostics>>> GetBindingDiagnostics(string tenant_key,
        string? exchange_binding_id, BindingStore bindings, CalendarStore calendars, JobStore jobs, CancellationToken ct)
    {
        var binding = await RequireBinding(bindings, tenant_key, exchange_binding_id ?? "", ct);
        var owned = await calendars.ListForBindingAsync(binding.Id, ct);
        var queue = await jobs.ListForBindingAsync(binding.Id, ct);
        var sync = await jobs.FindSyncAsync(binding.Id, ct);
        return Ok(new BindingDiagnostics(binding.ExchangeBindingId, binding.Status, binding.ErrorReason, sync.LastSyncedAt,
                sync.NextAttemptAt, sync.Attempts, sync.LastError, sync.LastErrorAt,
                owned.Select(c => new CalendarProgressView(c.CalendarId, c.Summary, c.IsPrimary, c.WindowDone, c.HistoryDone, c.SyncState is not null, c.EventCount, c.SyncError)).ToList(),
                queue.Select(j => new JobProgressView(j.Id, j.Kind, j.State, j.Attempts, j.RunAt, j.LastError, j.LeaseOwner)).ToList()),
            FeishuJsonContext.Default.EnvelopeBindingDiagnostics);
    }

    private static async Task<BindingRecord> RequireBinding(BindingStore bindings, string tenantKey, string exchangeBindingId, CancellationToken ct) =>
        await bindings.FindAsync(tenantKey, "", exchangeBindingId, ct) ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "exchange binding");

    private static async Task<AdminAccountRecord> RequireAdminAccount(AdminStore store, string tenantKey, string email, CancellationToken ct) =>
        await store.FindAdminAccountAsync(tenantKey, EmailAddress.Normalize(email), ct)
        ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "exchange admin account");

    private static AdminAccountView View(AdminAccountRecord a) =>
        new(a.Email, a.TenantKey, a.Connector, a.Endpoint, a.Username, a.CredentialKind, a.AllowCleartextPassword, a.VerificationState,
            a.VerificationError);

    private static async Task RequireTenant(AdminStore store, string tenantKey, CancellationToken ct)
    {
        if (await store.FindTenantAsync(tenantKey, ct) is null) throw new FeishuException(FeishuErrors.OperatorNotFound, "tenant");
    }

    private static async Task Unique(Func<Task> insert, HttpRequest request, string what)
    {
        try
        {
            await insert();
        }
        catch (Exception e) when (request.HttpContext.RequestServices.GetRequiredService<IDatabase>().IsUniqueViolation(e))
        {
            throw new FeishuException(FeishuErrors.OperatorConflict, $"{what} already exists");
        }
    }

    private static string RequiredName(JsonElement body, string name)
    {
        var value = JsonBody.RequiredString(body, name, Invalid);
        return value.Length <= 200 ? value : throw new FeishuException(Invalid, $"{name} must be at most 200 characters");
    }

    private static void CheckIdentifier(string name, string value)
    {
        if (value.Length is 0 or > 64 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            throw new FeishuException(Invalid, $"{name} must be 1 to 64 letters, digits, '_', '-' or '.'");
    }

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

    private static long Now(TimeProvider clock) => clock.GetUtcNow().ToUnixTimeMilliseconds();

    private static FeishuJsonResult<Envelope<T>> Ok<T>(T data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<Envelope<T>> type) =>
        FeishuJson.Result(Envelope.Success(data), type);
}
