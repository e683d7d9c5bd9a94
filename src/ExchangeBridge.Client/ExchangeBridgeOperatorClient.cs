using System.Text.Json.Serialization.Metadata;
using ExchangeBridge.Client.Pipeline;

namespace ExchangeBridge.Client;

/// <summary>
/// ExchangeBridge's operator API (<c>/admin/v1</c>, our extension, not Feishu's): tenants, apps, users and super
/// administrators, Exchange admin accounts, binding diagnostics, and authorization codes standing in for Feishu's login
/// page. Authorised by the deployment's operator key; retries and errors as <see cref="FeishuClient"/>.
/// </summary>
public sealed class ExchangeBridgeOperatorClient : IDisposable
{
    private const string Root = "/admin/v1";
    private readonly FeishuHttpPipeline _pipeline;
    private readonly string _operatorKey;

    /// <param name="operatorKey">The deployment's operator key (<c>operator_key</c> in <c>bootstrap.json</c>).</param>
    /// <param name="options">The server's address, retry and transport; credentials in it are not used.</param>
    public ExchangeBridgeOperatorClient(string operatorKey, FeishuClientOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(operatorKey);
        ArgumentNullException.ThrowIfNull(options);
        _operatorKey = operatorKey;
        _pipeline = new FeishuHttpPipeline(options);
    }

    public Task<Tenant> CreateTenantAsync(CreateTenantRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "/tenants", request, ClientJsonContext.Default.CreateTenantRequest, ClientJsonContext.Default.EnvelopeTenant,
            cancellationToken);

    public async Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, "/tenants", ClientJsonContext.Default.EnvelopeTenantList, cancellationToken).ConfigureAwait(false)).Items;

    /// <summary>Creates an app in a tenant; its secret is in the answer and nowhere else.</summary>
    public Task<CreatedApp> CreateAppAsync(string tenantKey, CreateAppRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"/tenants/{Segment(tenantKey)}/apps", request, ClientJsonContext.Default.CreateAppRequest,
            ClientJsonContext.Default.EnvelopeCreatedApp, cancellationToken);

    /// <summary>Deletes an app; its tokens stop working at once.</summary>
    public async Task DeleteAppAsync(string tenantKey, string appId, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Delete, $"/tenants/{Segment(tenantKey)}/apps/{Segment(appId)}", ClientJsonContext.Default.EnvelopeEmptyData,
            cancellationToken).ConfigureAwait(false);

    public Task<OperatorUser> CreateUserAsync(string tenantKey, CreateUserRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"/tenants/{Segment(tenantKey)}/users", request, ClientJsonContext.Default.CreateUserRequest,
            ClientJsonContext.Default.EnvelopeOperatorUser, cancellationToken);

    public Task<OperatorUser> GetUserAsync(string tenantKey, string userId, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"/tenants/{Segment(tenantKey)}/users/{Segment(userId)}", ClientJsonContext.Default.EnvelopeOperatorUser,
            cancellationToken);

    /// <summary>Makes or unmakes a super administrator; resigns or reinstates.</summary>
    public Task<OperatorUser> UpdateUserAsync(string tenantKey, string userId, UpdateUserRequest request,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, $"/tenants/{Segment(tenantKey)}/users/{Segment(userId)}", request, ClientJsonContext.Default.UpdateUserRequest,
            ClientJsonContext.Default.EnvelopeOperatorUser, cancellationToken);

    /// <summary>Registers (or replaces) an Exchange admin account and verifies it against its endpoint.</summary>
    public Task<ExchangeAdminAccount> PutExchangeAdminAccountAsync(string tenantKey, string email, ExchangeAdminAccountRequest request,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"/tenants/{Segment(tenantKey)}/exchange_admin_accounts/{Segment(email)}", request,
            ClientJsonContext.Default.ExchangeAdminAccountRequest, ClientJsonContext.Default.EnvelopeExchangeAdminAccount, cancellationToken);

    public Task<ExchangeAdminAccount> GetExchangeAdminAccountAsync(string tenantKey, string email, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"/tenants/{Segment(tenantKey)}/exchange_admin_accounts/{Segment(email)}",
            ClientJsonContext.Default.EnvelopeExchangeAdminAccount, cancellationToken);

    public Task<ExchangeAdminAccount> VerifyExchangeAdminAccountAsync(string tenantKey, string email, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"/tenants/{Segment(tenantKey)}/exchange_admin_accounts/{Segment(email)}/verify",
            ClientJsonContext.Default.EnvelopeExchangeAdminAccount, cancellationToken);

    /// <summary>A binding's import progress, jobs and failure reason.</summary>
    public Task<BindingDiagnostics> GetBindingDiagnosticsAsync(string tenantKey, string exchangeBindingId,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"/tenants/{Segment(tenantKey)}/exchange_bindings?exchange_binding_id={Uri.EscapeDataString(exchangeBindingId)}",
            ClientJsonContext.Default.EnvelopeBindingDiagnostics, cancellationToken);

    /// <summary>
    /// Tries again now one binding, or every binding of the tenant that is err or retrying after a fault (an err binding is
    /// otherwise tried again hourly, and when its admin account is registered or verified again).
    /// </summary>
    public Task<BindingsRetried> RetryExchangeBindingsAsync(string tenantKey, RetryBindingsRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"/tenants/{Segment(tenantKey)}/exchange_bindings/retry", request, ClientJsonContext.Default.RetryBindingsRequest,
            ClientJsonContext.Default.EnvelopeBindingsRetried, cancellationToken);

    /// <summary>Mints a single-use authorization code for a user of an app (by open_id or user_id), valid for minutes.</summary>
    public Task<AuthorizationCode> MintAuthorizationCodeAsync(MintAuthorizationCodeRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, "/authorization_codes", request, ClientJsonContext.Default.MintAuthorizationCodeRequest,
            ClientJsonContext.Default.EnvelopeAuthorizationCode, cancellationToken);

    /// <summary>Sets where an app's events go; the server saves it once the URL has answered the platform's verification challenge.</summary>
    public Task<EventSettings> PutEventSettingsAsync(string tenantKey, string appId, EventSettingsRequest request,
        CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"/tenants/{Segment(tenantKey)}/apps/{Segment(appId)}/event_settings", request,
            ClientJsonContext.Default.EventSettingsRequest, ClientJsonContext.Default.EnvelopeEventSettings, cancellationToken);

    /// <summary>The tenant's latest event deliveries, newest first; of one app or in one state when given.</summary>
    public async Task<IReadOnlyList<EventDelivery>> ListEventDeliveriesAsync(string tenantKey, string? appId = null, string? state = null,
        int? limit = null, CancellationToken cancellationToken = default)
    {
        var query = string.Join('&', new[] { ("app_id", appId), ("state", state), ("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)) }
            .Where(p => p.Item2 is not null).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
        return (await SendAsync(HttpMethod.Get, $"/tenants/{Segment(tenantKey)}/event_deliveries{(query.Length == 0 ? "" : "?" + query)}",
            ClientJsonContext.Default.EnvelopeEventDeliveryList, cancellationToken).ConfigureAwait(false)).Items;
    }

    private Task<TAnswer> SendAsync<TBody, TAnswer>(HttpMethod method, string path, TBody body, JsonTypeInfo<TBody> bodyType,
        JsonTypeInfo<Envelope<TAnswer>> answerType, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(body);
        return _pipeline.SendEnvelopeAsync(method, Root + path, _operatorKey, FeishuHttpPipeline.Serialize(body, bodyType), answerType, ct);
    }

    private Task<TAnswer> SendAsync<TAnswer>(HttpMethod method, string path, JsonTypeInfo<Envelope<TAnswer>> answerType, CancellationToken ct) =>
        _pipeline.SendEnvelopeAsync(method, Root + path, _operatorKey, null, answerType, ct);

    private static string Segment(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        return Uri.EscapeDataString(value);
    }

    public void Dispose() => _pipeline.Dispose();
}
