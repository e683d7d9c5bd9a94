using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using ExchangeBridge.Client.Pipeline;

namespace ExchangeBridge.Client;

/// <summary>
/// The Feishu Open API's exchange-binding and calendar endpoints, against Feishu itself or a self-hosted ExchangeBridge.
/// Tokens are handled inside: the app's tenant token is fetched and renewed from <see cref="FeishuClientOptions.AppId"/>
/// and <see cref="FeishuClientOptions.AppSecret"/>; the user token (a super administrator's, for bindings) is refreshed
/// through its refresh token when it expires. Thread-safe; make one per app and user and keep it.
/// </summary>
public sealed class FeishuClient : IDisposable
{
    private const string BindingsPath = "/open-apis/calendar/v4/exchange_bindings";
    private const string CalendarsPath = "/open-apis/calendar/v4/calendars";
    private const string FreeBusyPath = "/open-apis/calendar/v4/freebusy";

    // The gateway's codes for a token it will not take: expired, or unknown/invalid.
    private const int UserTokenExpired = 99991677;
    private const int UserTokenInvalid = 99991668;
    private const int TenantTokenInvalid = 99991663;
    private const int AppTokenInvalid = 99991664;

    private readonly FeishuHttpPipeline _pipeline;
    private readonly FeishuClientOptions _options;
    private readonly TimeProvider _clock;
    private readonly TenantTokenSource _tenant;
    private readonly UserTokenSource _user;

    public FeishuClient(FeishuClientOptions options) : this(options, TimeProvider.System)
    {
    }

    internal FeishuClient(FeishuClientOptions options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _clock = clock;
        _pipeline = new FeishuHttpPipeline(options, clock);
        _tenant = new TenantTokenSource(FetchTenantTokenAsync, clock);
        _user = new UserTokenSource(RedeemRefreshTokenAsync, clock, options.UserTokensChanged);
        if (options.UserAccessToken is { Length: > 0 } access)
            _user.Set(access, options.UserRefreshToken is { Length: > 0 } r ? r : null, options.UserAccessTokenExpiresAt);
    }

    public Uri BaseAddress => _pipeline.BaseAddress;

    /// <summary>The app's tenant access token (cached until shortly before it expires).</summary>
    public Task<string> GetTenantAccessTokenAsync(CancellationToken cancellationToken = default) =>
        _tenant.GetAsync(cancellationToken).AsTask();

    /// <summary>
    /// Redeems a user's authorization code (<c>POST /open-apis/authen/v1/oidc/access_token</c>, as the app) and uses the
    /// user's tokens from then on.
    /// </summary>
    public async Task<UserTokens> ExchangeAuthorizationCodeAsync(string code, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(code);
        var body = FeishuHttpPipeline.Serialize(new OidcCodeGrant("authorization_code", code), ClientJsonContext.Default.OidcCodeGrant);
        var tokens = await RedeemAsync("/open-apis/authen/v1/oidc/access_token", body, cancellationToken).ConfigureAwait(false);
        _user.Set(tokens);
        return tokens;
    }

    /// <summary>
    /// Binds an Exchange account to a Feishu user (<c>POST /open-apis/calendar/v4/exchange_bindings</c>). Binding the same
    /// accounts and user again answers the existing binding, so a retried create is safe.
    /// </summary>
    public Task<ExchangeBinding> CreateExchangeBindingAsync(CreateExchangeBindingRequest request, UserIdType userIdType = UserIdType.OpenId,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = FeishuHttpPipeline.Serialize(request, ClientJsonContext.Default.CreateExchangeBindingRequest);
        return SendAsUserAsync(HttpMethod.Post, $"{BindingsPath}?user_id_type={userIdType.ToWire()}", body,
            ClientJsonContext.Default.EnvelopeExchangeBinding, cancellationToken);
    }

    /// <summary>A binding and its import status (<c>GET …/exchange_bindings/{id}</c>).</summary>
    public Task<ExchangeBinding> GetExchangeBindingAsync(string exchangeBindingId, UserIdType userIdType = UserIdType.OpenId,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(exchangeBindingId);
        return SendAsUserAsync(HttpMethod.Get, $"{BindingsPath}/{Uri.EscapeDataString(exchangeBindingId)}?user_id_type={userIdType.ToWire()}",
            null, ClientJsonContext.Default.EnvelopeExchangeBinding, cancellationToken);
    }

    /// <summary>Unbinds, removing what was imported (<c>DELETE …/exchange_bindings/{id}</c>).</summary>
    public async Task DeleteExchangeBindingAsync(string exchangeBindingId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(exchangeBindingId);
        await SendAsUserAsync(HttpMethod.Delete, $"{BindingsPath}/{Uri.EscapeDataString(exchangeBindingId)}", null,
            ClientJsonContext.Default.EnvelopeEmptyData, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The caller's calendars, page by page (<c>GET /open-apis/calendar/v4/calendars</c>): the user's when a user token is
    /// configured, otherwise as the app.
    /// </summary>
    public async IAsyncEnumerable<Calendar> GetCalendarsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? pageToken = null;
        do
        {
            var page = await SendAsCallerAsync(HttpMethod.Get, CalendarsPath + Query(("page_token", pageToken)), null,
                ClientJsonContext.Default.EnvelopeCalendarPage, cancellationToken).ConfigureAwait(false);
            foreach (var calendar in page.CalendarList ?? []) yield return calendar;
            pageToken = page.HasMore ? page.PageToken : null;
        }
        while (!string.IsNullOrEmpty(pageToken));
    }

    /// <summary>A calendar's events between two instants, page by page (<c>GET …/calendars/{id}/events</c>).</summary>
    public async IAsyncEnumerable<CalendarEvent> GetCalendarEventsAsync(string calendarId, DateTimeOffset? start = null,
        DateTimeOffset? end = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(calendarId);
        string? pageToken = null;
        do
        {
            var query = Query(("start_time", start?.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
                ("end_time", end?.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)), ("page_token", pageToken));
            var page = await SendAsCallerAsync(HttpMethod.Get, $"{CalendarsPath}/{Uri.EscapeDataString(calendarId)}/events{query}", null,
                ClientJsonContext.Default.EnvelopeEventPage, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items ?? []) yield return item;
            pageToken = page.HasMore ? page.PageToken : null;
        }
        while (!string.IsNullOrEmpty(pageToken));
    }

    /// <summary>
    /// A calendar's events between two instants with every series expanded into its instances
    /// (<c>GET …/calendars/{id}/events/instance_view</c>): at most 40 days, at most 1000 instances.
    /// </summary>
    public async Task<IReadOnlyList<CalendarEvent>> GetInstanceViewAsync(string calendarId, DateTimeOffset start, DateTimeOffset end,
        UserIdType userIdType = UserIdType.OpenId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(calendarId);
        var query = Query(("start_time", start.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            ("end_time", end.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)), ("user_id_type", userIdType.ToWire()));
        var view = await SendAsCallerAsync(HttpMethod.Get, $"{CalendarsPath}/{Uri.EscapeDataString(calendarId)}/events/instance_view{query}", null,
            ClientJsonContext.Default.EnvelopeInstanceViewData, cancellationToken).ConfigureAwait(false);
        return view.Items ?? [];
    }

    /// <summary>One user's busy stretches (<c>POST /open-apis/calendar/v4/freebusy/list</c>), times only.</summary>
    public async Task<IReadOnlyList<FreeBusySlot>> GetFreeBusyAsync(string userId, FreeBusyQuery query, UserIdType userIdType = UserIdType.OpenId,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentNullException.ThrowIfNull(query);
        var body = FeishuHttpPipeline.Serialize(new FreeBusyListRequest(query.TimeMin, query.TimeMax, userId, query.IncludeExternalCalendar,
            query.OnlyBusy, query.NeedRsvpStatus), ClientJsonContext.Default.FreeBusyListRequest);
        var answer = await SendAsCallerAsync(HttpMethod.Post, $"{FreeBusyPath}/list?user_id_type={userIdType.ToWire()}", body,
            ClientJsonContext.Default.EnvelopeFreeBusyListData, cancellationToken).ConfigureAwait(false);
        return answer.FreebusyList ?? [];
    }

    /// <summary>Several users' busy stretches in one request (<c>POST …/freebusy/batch</c>), in the order asked.</summary>
    public async Task<IReadOnlyList<UserFreeBusy>> GetFreeBusyBatchAsync(IReadOnlyList<string> userIds, FreeBusyQuery query,
        UserIdType userIdType = UserIdType.OpenId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        ArgumentNullException.ThrowIfNull(query);
        var body = FeishuHttpPipeline.Serialize(new FreeBusyBatchRequest(query.TimeMin, query.TimeMax, userIds, query.IncludeExternalCalendar,
            query.OnlyBusy, query.NeedRsvpStatus), ClientJsonContext.Default.FreeBusyBatchRequest);
        var answer = await SendAsCallerAsync(HttpMethod.Post, $"{FreeBusyPath}/batch?user_id_type={userIdType.ToWire()}", body,
            ClientJsonContext.Default.EnvelopeFreeBusyBatchData, cancellationToken).ConfigureAwait(false);
        return answer.FreebusyLists ?? [];
    }

    /// <summary>
    /// One sync round (<c>GET …/calendars/{id}/events?sync_token=</c>): every page from <paramref name="syncToken"/> (a full
    /// listing when null) to the page carrying the next token. Keep <see cref="CalendarEventChanges.SyncToken"/> for the
    /// next round; a token the server no longer knows is refused with code 190008, after which a round from null starts over.
    /// </summary>
    public async Task<CalendarEventChanges> SyncCalendarEventsAsync(string calendarId, string? syncToken = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(calendarId);
        var events = new List<CalendarEvent>();
        string? pageToken = null;
        while (true)
        {
            var query = pageToken is null ? Query(("sync_token", syncToken)) : Query(("page_token", pageToken));
            var page = await SendAsCallerAsync(HttpMethod.Get, $"{CalendarsPath}/{Uri.EscapeDataString(calendarId)}/events{query}", null,
                ClientJsonContext.Default.EnvelopeEventPage, cancellationToken).ConfigureAwait(false);
            events.AddRange(page.Items ?? []);
            if (!page.HasMore || string.IsNullOrEmpty(page.PageToken)) return new CalendarEventChanges(events, page.SyncToken ?? "");
            pageToken = page.PageToken;
        }
    }

    /// <summary>
    /// Subscribes this app, as the configured user, to a calendar's event changes (<c>POST …/events/subscription</c>): each
    /// then reaches the request URL the app registered as <c>calendar.calendar.event.changed_v4</c>.
    /// </summary>
    public async Task SubscribeCalendarEventsAsync(string calendarId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(calendarId);
        await SendAsUserAsync(HttpMethod.Post, $"{CalendarsPath}/{Uri.EscapeDataString(calendarId)}/events/subscription", "{}"u8.ToArray(),
            ClientJsonContext.Default.EnvelopeEmptyData, cancellationToken).ConfigureAwait(false);
    }

    private Task<T> SendAsCallerAsync<T>(HttpMethod method, string path, byte[]? body, JsonTypeInfo<Envelope<T>> type, CancellationToken ct) =>
        _user.HasToken ? SendAsUserAsync(method, path, body, type, ct) : SendAsTenantAsync(method, path, body, type, ct);

    /// <summary>Sends with the user token; an expired or refused one is refreshed once and the request sent again.</summary>
    private async Task<T> SendAsUserAsync<T>(HttpMethod method, string path, byte[]? body, JsonTypeInfo<Envelope<T>> type,
        CancellationToken ct)
    {
        var token = await _user.GetAsync(ct).ConfigureAwait(false);
        try
        {
            return await _pipeline.SendEnvelopeAsync(method, path, token, body, type, ct).ConfigureAwait(false);
        }
        catch (FeishuApiException e) when (e.Code is UserTokenExpired or UserTokenInvalid)
        {
            var renewed = await _user.RefreshAsync(token, ct).ConfigureAwait(false);
            if (renewed is null) throw;
            return await _pipeline.SendEnvelopeAsync(method, path, renewed, body, type, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Sends with the app's tenant token; a refused one is dropped, fetched anew and the request sent again.</summary>
    private async Task<T> SendAsTenantAsync<T>(HttpMethod method, string path, byte[]? body, JsonTypeInfo<Envelope<T>> type,
        CancellationToken ct)
    {
        var token = await _tenant.GetAsync(ct).ConfigureAwait(false);
        try
        {
            return await _pipeline.SendEnvelopeAsync(method, path, token, body, type, ct).ConfigureAwait(false);
        }
        catch (FeishuApiException e) when (e.Code is TenantTokenInvalid or AppTokenInvalid)
        {
            _tenant.Forget(token);
            token = await _tenant.GetAsync(ct).ConfigureAwait(false);
            return await _pipeline.SendEnvelopeAsync(method, path, token, body, type, ct).ConfigureAwait(false);
        }
    }

    private async Task<(string Token, int ExpiresInSeconds)> FetchTenantTokenAsync(CancellationToken ct)
    {
        if (string.IsNullOrEmpty(_options.AppId) || string.IsNullOrEmpty(_options.AppSecret))
            throw new InvalidOperationException("A tenant access token needs FeishuClientOptions.AppId and AppSecret.");
        var body = FeishuHttpPipeline.Serialize(new AppCredentials(_options.AppId, _options.AppSecret), ClientJsonContext.Default.AppCredentials);
        // This endpoint answers flat ({code, msg, tenant_access_token, expire}), refusals included with HTTP 200.
        var answer = await _pipeline.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", null, body, ct)
            .ConfigureAwait(false);
        TenantAccessTokenResponse? token = null;
        try
        {
            token = JsonSerializer.Deserialize(answer.Body, ClientJsonContext.Default.TenantAccessTokenResponse);
        }
        catch (JsonException)
        {
            // Reported as the answer it is, below.
        }
        if (token is { Code: 0, TenantAccessToken: { Length: > 0 } value }) return (value, token.Expire);
        throw FeishuHttpPipeline.Refusal(answer);
    }

    private Task<UserTokens> RedeemRefreshTokenAsync(string refreshToken, CancellationToken ct)
    {
        var body = FeishuHttpPipeline.Serialize(new OidcRefreshGrant("refresh_token", refreshToken), ClientJsonContext.Default.OidcRefreshGrant);
        return RedeemAsync("/open-apis/authen/v1/oidc/refresh_access_token", body, ct);
    }

    private async Task<UserTokens> RedeemAsync(string path, byte[] body, CancellationToken ct)
    {
        var data = await SendAsTenantAsync(HttpMethod.Post, path, body, ClientJsonContext.Default.EnvelopeOidcTokenData, ct).ConfigureAwait(false);
        var now = _clock.GetUtcNow();
        return new UserTokens(data.AccessToken, data.RefreshToken, now.AddSeconds(data.ExpiresIn), now.AddSeconds(data.RefreshExpiresIn),
            data.Scope ?? "");
    }

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    public void Dispose() => _pipeline.Dispose();
}
