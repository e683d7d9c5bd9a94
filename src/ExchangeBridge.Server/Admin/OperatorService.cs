using ExchangeBridge.Core.Bindings;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Core.Identity;
using ExchangeBridge.Server.Bindings;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Import;
using ExchangeBridge.Server.Storage;
using Microsoft.Extensions.Options;

namespace ExchangeBridge.Server.Admin;

/// <summary>An Exchange admin account to register, as an operator gives it (the operator API's body, the console's form).</summary>
public sealed record AdminAccountRegistration(string? Connector, string Endpoint, string? Username, string? Secret, string? Certificate,
    string? GraphTenantId, string? GraphClientId, bool AllowCleartextPassword);

/// <summary>A user to create; a null <see cref="UserId"/> gets a generated one.</summary>
public sealed record UserCreation(string? UserId, string Name, string? Email, bool IsSuperAdmin);

/// <summary>
/// What an operator may do, with its rules, in one place: the operator API (<see cref="AdminApi"/>) and the console
/// (<c>Console/</c>) both call it, so neither holds a copy of a rule. Refusals are <see cref="FeishuException"/>s from the
/// catalog's operator codes; the API sends them in the envelope, the console shows their message.
/// </summary>
public sealed class OperatorService(AdminStore store, IdentityStore identities, BindingStore bindings, CalendarStore calendars, JobStore jobs,
    SecretProtector protector, AdminAccountVerifier verifier, TokenService tokens, ImportWorker worker, IDatabase database,
    IOptions<Hosting.ServerOptions> options, TimeProvider clock)
{
    private static readonly FeishuError Invalid = FeishuErrors.OperatorInvalidRequest;

    public async Task<TenantView> CreateTenantAsync(string name, string? tenantKey, CancellationToken ct)
    {
        CheckName("name", name);
        tenantKey ??= AdminStore.NewTenantKey();
        CheckIdentifier("tenant_key", tenantKey);
        await UniqueAsync(() => store.CreateTenantAsync(tenantKey, name, Now, ct), "tenant_key");
        return new TenantView(tenantKey, name);
    }

    public async Task<IReadOnlyList<TenantView>> ListTenantsAsync(CancellationToken ct) =>
        (await store.ListTenantsAsync(ct)).Select(t => new TenantView(t.TenantKey, t.Name)).ToList();

    /// <summary>Creates an app; the answer is the only time its secret is ever shown.</summary>
    public async Task<AppCreated> CreateAppAsync(string tenantKey, string name, IReadOnlyList<string>? scopes, bool botEnabled, CancellationToken ct)
    {
        await RequireTenantAsync(tenantKey, ct);
        CheckName("name", name);
        scopes ??= Scopes.Default;
        var appId = AdminStore.NewAppId();
        var secret = OpaqueSecrets.NewAlphanumeric(32);
        await store.CreateAppAsync(appId, tenantKey, name, protector.Protect(secret), string.Join(' ', scopes), botEnabled, Now, ct);
        return new AppCreated(appId, secret, tenantKey, name, scopes, botEnabled);
    }

    public async Task<AppSettingsView> SetAppBotAsync(string tenantKey, string appId, bool botEnabled, CancellationToken ct)
    {
        if (!await store.SetAppBotAsync(tenantKey, appId, botEnabled, ct)) throw new FeishuException(FeishuErrors.OperatorNotFound, "app");
        return new AppSettingsView(appId, tenantKey, botEnabled);
    }

    public async Task DeleteAppAsync(string tenantKey, string appId, CancellationToken ct)
    {
        if (!await store.DeleteAppAsync(tenantKey, appId, Now, ct)) throw new FeishuException(FeishuErrors.OperatorNotFound, "app");
    }

    public async Task<UserView> CreateUserAsync(string tenantKey, UserCreation creation, CancellationToken ct)
    {
        await RequireTenantAsync(tenantKey, ct);
        CheckName("name", creation.Name);
        var user = new UserRecord
        {
            TenantKey = tenantKey,
            UserId = creation.UserId ?? AdminStore.NewUserId(),
            UnionId = AdminStore.NewUnionId(),
            Name = creation.Name,
            Email = creation.Email,
            IsSuperAdmin = creation.IsSuperAdmin,
        };
        CheckIdentifier("user_id", user.UserId);
        if (user.Email is not null && !EmailAddress.IsValid(user.Email)) throw new FeishuException(Invalid, "email is not an email address");
        await UniqueAsync(() => store.CreateUserAsync(user, Now, ct), "user_id");
        return await GetUserAsync(tenantKey, user.UserId, ct);
    }

    public async Task<UserView> GetUserAsync(string tenantKey, string userId, CancellationToken ct)
    {
        var (u, openIds) = await store.FindUserAsync(tenantKey, userId, ct) ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "user");
        return new UserView(u.TenantKey, u.UserId, u.UnionId, u.Name, u.Email, u.IsSuperAdmin, u.ResignedAt is not null,
            openIds.Select(o => new OpenIdView(o.AppId, o.OpenId)).ToList());
    }

    /// <summary>Makes or unmakes super administrator, resigns or reinstates (resigning revokes the user's tokens: see the store).</summary>
    public async Task<UserView> UpdateUserAsync(string tenantKey, string userId, bool? isSuperAdmin, bool? resigned, CancellationToken ct)
    {
        if (!await store.UpdateUserAsync(tenantKey, userId, isSuperAdmin, resigned, Now, ct))
            throw new FeishuException(FeishuErrors.OperatorNotFound, "user");
        return await GetUserAsync(tenantKey, userId, ct);
    }

    /// <summary>
    /// Registers (or replaces) an admin account and verifies it; the credential is stored encrypted and never answered.
    /// An account that verifies retries its bindings waiting on a failure at once.
    /// </summary>
    public async Task<AdminAccountView> RegisterAdminAccountAsync(string tenantKey, string email, AdminAccountRegistration registration,
        CancellationToken ct)
    {
        await RequireTenantAsync(tenantKey, ct);
        if (!EmailAddress.IsValid(email)) throw new FeishuException(Invalid, "email is not an email address");
        var connector = registration.Connector ?? AdminAccounts.Ews;
        if (!AdminAccounts.TryParseConnector(connector, out _)) throw new FeishuException(Invalid, "connector must be ews or graph");
        if (!Uri.TryCreate(registration.Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new FeishuException(Invalid, "endpoint must be an http(s) URL");
        var (secret, certificate) = (registration.Secret, registration.Certificate);
        if (certificate is not null)
        {
            if (connector != AdminAccounts.Graph || secret is not null)
                throw new FeishuException(Invalid, "client_certificate is a graph credential, given instead of client_secret");
            if (!AdminAccounts.IsUsableCertificate(certificate))
                throw new FeishuException(Invalid, "client_certificate must be a PEM certificate followed by its unencrypted RSA private key");
        }
        else if (secret is null) throw new FeishuException(Invalid, "password (ews), client_secret or client_certificate (graph) is required");
        var account = new AdminAccountRecord
        {
            Email = EmailAddress.Normalize(email),
            TenantKey = tenantKey,
            Connector = connector,
            Endpoint = registration.Endpoint,
            Username = registration.Username ?? email,
            SecretProtected = protector.Protect(certificate ?? secret!),
            CredentialKind = certificate is null ? AdminAccounts.SecretCredential : AdminAccounts.CertificateCredential,
            GraphTenantId = registration.GraphTenantId,
            GraphClientId = registration.GraphClientId,
            AllowCleartextPassword = registration.AllowCleartextPassword,
        };
        (account.VerificationState, account.VerificationError) = await verifier.VerifyAsync(account, ct);
        if (!await store.UpsertAdminAccountAsync(account, Now, ct))
            throw new FeishuException(FeishuErrors.OperatorConflict, "the admin account is registered to another tenant");
        await RetryBindingsOfVerifiedAsync(account, ct);
        return View(account);
    }

    public async Task<AdminAccountView> GetAdminAccountAsync(string tenantKey, string email, CancellationToken ct) =>
        View(await RequireAdminAccountAsync(tenantKey, email, ct));

    public async Task<IReadOnlyList<AdminAccountView>> ListAdminAccountsAsync(string tenantKey, CancellationToken ct) =>
        (await store.ListAdminAccountsAsync(tenantKey, ct)).Select(View).ToList();

    public async Task<AdminAccountView> VerifyAdminAccountAsync(string tenantKey, string email, CancellationToken ct)
    {
        var account = await RequireAdminAccountAsync(tenantKey, email, ct);
        (account.VerificationState, account.VerificationError) = await verifier.VerifyAsync(account, ct);
        await store.SetVerificationAsync(account.Email, account.VerificationState, account.VerificationError, Now, ct);
        await RetryBindingsOfVerifiedAsync(account, ct);
        return View(account);
    }

    /// <summary>A user's authorization code for an app (standing in for Feishu's login page), named by open_id or user_id.</summary>
    public async Task<AuthorizationCodeView> MintAuthorizationCodeAsync(string appId, string? openId, string? userId, string? redirectUri,
        CancellationToken ct)
    {
        var app = await identities.FindAppAsync(appId, ct) ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "app");
        var resolvedUserId = openId is not null ? await store.FindUserIdByOpenIdAsync(appId, openId, ct)
            : userId is not null && await store.FindUserAsync(app.TenantKey, userId, ct) is not null ? userId
            : throw new FeishuException(Invalid, "open_id or user_id is required");
        if (resolvedUserId is null) throw new FeishuException(FeishuErrors.OperatorNotFound, "user");
        var code = await tokens.MintAuthorizationCodeAsync(app, resolvedUserId, redirectUri, ct);
        return new AuthorizationCodeView(code, options.Value.AuthorizationCodeLifetimeSeconds);
    }

    /// <summary>Runs now one binding, or every binding of the tenant, that is err or retrying after a fault.</summary>
    public async Task<BindingsRetried> RetryBindingsAsync(string tenantKey, string? exchangeBindingId, CancellationToken ct)
    {
        await RequireTenantAsync(tenantKey, ct);
        long? bindingKey = exchangeBindingId is null ? null : (await RequireBindingAsync(tenantKey, exchangeBindingId, ct)).Id;
        var retried = await jobs.RetryNowAsync(tenantKey, bindingKey, null, Now, ct);
        if (retried > 0) worker.Wake();
        return new BindingsRetried(retried);
    }

    public async Task<BindingDiagnostics> GetBindingDiagnosticsAsync(string tenantKey, string exchangeBindingId, CancellationToken ct)
    {
        var binding = await RequireBindingAsync(tenantKey, exchangeBindingId, ct);
        var owned = await calendars.ListForBindingAsync(binding.Id, ct);
        var queue = await jobs.ListForBindingAsync(binding.Id, ct);
        var sync = await jobs.FindSyncAsync(binding.Id, ct);
        return new BindingDiagnostics(binding.ExchangeBindingId, binding.Status, binding.ErrorReason, sync.LastSyncedAt,
            sync.NextAttemptAt, sync.Attempts, sync.LastError, sync.LastErrorAt,
            owned.Select(c => new CalendarProgressView(c.CalendarId, c.Summary, c.IsPrimary, c.WindowDone, c.HistoryDone, c.SyncState is not null,
                c.EventCount, c.SyncError)).ToList(),
            queue.Select(j => new JobProgressView(j.Id, j.Kind, j.State, j.Attempts, j.RunAt, j.LastError, j.LeaseOwner)).ToList());
    }

    /// <summary>An account that verifies (registered again, or verified again) may be what its bindings in err waited for.</summary>
    private async Task RetryBindingsOfVerifiedAsync(AdminAccountRecord account, CancellationToken ct)
    {
        if (account.VerificationState != AdminAccountStates.Verified) return;
        if (await jobs.RetryNowAsync(account.TenantKey, null, account.Email, Now, ct) > 0) worker.Wake();
    }

    private async Task<BindingRecord> RequireBindingAsync(string tenantKey, string exchangeBindingId, CancellationToken ct) =>
        await bindings.FindAsync(tenantKey, "", exchangeBindingId, ct) ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "exchange binding");

    private async Task<AdminAccountRecord> RequireAdminAccountAsync(string tenantKey, string email, CancellationToken ct) =>
        await store.FindAdminAccountAsync(tenantKey, EmailAddress.Normalize(email), ct)
        ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "exchange admin account");

    private static AdminAccountView View(AdminAccountRecord a) =>
        new(a.Email, a.TenantKey, a.Connector, a.Endpoint, a.Username, a.CredentialKind, a.AllowCleartextPassword, a.VerificationState,
            a.VerificationError);

    private async Task RequireTenantAsync(string tenantKey, CancellationToken ct)
    {
        if (await store.FindTenantAsync(tenantKey, ct) is null) throw new FeishuException(FeishuErrors.OperatorNotFound, "tenant");
    }

    private async Task UniqueAsync(Func<Task> insert, string what)
    {
        try
        {
            await insert();
        }
        catch (Exception e) when (database.IsUniqueViolation(e))
        {
            throw new FeishuException(FeishuErrors.OperatorConflict, $"{what} already exists");
        }
    }

    private static void CheckName(string field, string value)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new FeishuException(Invalid, $"{field} is required");
        if (value.Length > 200) throw new FeishuException(Invalid, $"{field} must be at most 200 characters");
    }

    private static void CheckIdentifier(string name, string value)
    {
        if (value.Length is 0 or > 64 || !value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            throw new FeishuException(Invalid, $"{name} must be 1 to 64 letters, digits, '_', '-' or '.'");
    }

    private long Now => clock.GetUtcNow().ToUnixTimeMilliseconds();
}
