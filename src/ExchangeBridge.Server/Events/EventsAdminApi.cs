using System.Globalization;
using System.Text.Json;
using ExchangeBridge.Core.Errors;
using ExchangeBridge.Server.Admin;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Events;

/// <summary>An app's event settings as operators see them: the encrypt key is write-only (only whether there is one).</summary>
public sealed record EventSettingsView(string AppId, string RequestUrl, string VerificationToken, bool HasEncryptKey,
    IReadOnlyList<string> EventTypes, long VerifiedAt);

public sealed record DeliveryList(IReadOnlyList<DeliveryView> Items);

/// <summary>
/// The operator API's part for pushed events (our extension, standing in for the developer console's "Events and
/// callbacks" page): an app's request URL, verification token, encrypt key and event types, saved once the URL has
/// answered the platform's verification handshake; and the latest deliveries with their failures.
/// </summary>
public static class EventsAdminApi
{
    private const int MaxDeliveries = 500;
    private static readonly FeishuError Invalid = FeishuErrors.OperatorInvalidRequest;

    public static IEndpointRouteBuilder MapEventsAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/v1/tenants/{tenant_key}").RequireAuthorization(OperatorKeyHandler.Policy);
        admin.MapPut("/apps/{app_id}/event_settings", PutEventSettings).WithName("PutEventSettings")
            .WithSummary("Set the app's event request URL, verification token, encrypt key and event types (verified by the challenge)");
        admin.MapGet("/apps/{app_id}/event_settings", GetEventSettings).WithName("GetEventSettings")
            .WithSummary("The app's event settings (never its encrypt key)");
        admin.MapDelete("/apps/{app_id}/event_settings", DeleteEventSettings).WithName("DeleteEventSettings")
            .WithSummary("Stop pushing events to the app");
        admin.MapGet("/event_deliveries", ListDeliveries).WithName("ListEventDeliveries")
            .WithSummary("The latest event deliveries, newest first (?app_id=, ?state=pending|delivered|failed, ?limit=)");
        return app;
    }

    public static async Task<FeishuJsonResult<Envelope<EventSettingsView>>> PutEventSettings(string tenant_key, string app_id, HttpRequest request,
        IdentityStore identities, EventSettingsStore store, EventSender sender, SecretProtector protector, TimeProvider clock, CancellationToken ct)
    {
        await RequireAppAsync(identities, tenant_key, app_id, ct);
        var (requestUrl, token, encryptKey, eventTypes) = await JsonBody.ReadObjectAsync(request, Invalid, b =>
        {
            var url = JsonBody.RequiredString(b, "request_url", Invalid);
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new FeishuException(Invalid, "request_url must be an http(s) URL");
            var verificationToken = JsonBody.RequiredString(b, "verification_token", Invalid);
            var key = JsonBody.OptionalString(b, "encrypt_key", Invalid);
            if (key is { Length: 0 }) key = null;
            return (url, verificationToken, key, ReadEventTypes(b));
        }, ct);
        // As the console does, a URL is saved only once it has answered the challenge, with these very settings.
        if (await sender.VerifyUrlAsync(requestUrl, token, encryptKey, ct) is { } failure)
            throw new FeishuException(Invalid, $"request_url did not pass the URL verification: {failure}");
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var settings = new AppEventSettingsRecord
        {
            AppId = app_id, TenantKey = tenant_key, RequestUrl = requestUrl, VerificationToken = token,
            EncryptKeyProtected = encryptKey is null ? null : protector.Protect(encryptKey), EventTypes = string.Join(' ', eventTypes), VerifiedAt = now,
        };
        await store.SaveAsync(settings, now, ct);
        return Ok(View(settings), FeishuJsonContext.Default.EnvelopeEventSettingsView);
    }

    public static async Task<FeishuJsonResult<Envelope<EventSettingsView>>> GetEventSettings(string tenant_key, string app_id,
        EventSettingsStore store, CancellationToken ct) =>
        Ok(View(await store.FindAsync(tenant_key, app_id, ct) ?? throw new FeishuException(FeishuErrors.OperatorNotFound, "event settings")),
            FeishuJsonContext.Default.EnvelopeEventSettingsView);

    public static async Task<FeishuJsonResult<Envelope<EmptyData>>> DeleteEventSettings(string tenant_key, string app_id, EventSettingsStore store,
        TimeProvider clock, CancellationToken ct)
    {
        if (!await store.DeleteAsync(tenant_key, app_id, clock.GetUtcNow().ToUnixTimeMilliseconds(), ct))
            throw new FeishuException(FeishuErrors.OperatorNotFound, "event settings");
        return Ok(new EmptyData(), FeishuJsonContext.Default.EnvelopeEmptyData);
    }

    public static async Task<FeishuJsonResult<Envelope<DeliveryList>>> ListDeliveries(string tenant_key, string? app_id, string? state,
        string? limit, EventDeliveryStore deliveries, CancellationToken ct)
    {
        if (state is not (null or DeliveryStates.Pending or DeliveryStates.Delivered or DeliveryStates.Failed))
            throw new FeishuException(Invalid, "state must be pending, delivered or failed");
        var count = 50;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxDeliveries))
            throw new FeishuException(Invalid, $"limit must be 1..{MaxDeliveries}");
        var items = await deliveries.RecentAsync(tenant_key, app_id, state, count, ct);
        return Ok(new DeliveryList(items), FeishuJsonContext.Default.EnvelopeDeliveryList);
    }

    private static async Task RequireAppAsync(IdentityStore identities, string tenantKey, string appId, CancellationToken ct)
    {
        if (await identities.FindAppAsync(appId, ct) is not { } app || app.TenantKey != tenantKey)
            throw new FeishuException(FeishuErrors.OperatorNotFound, "app");
    }

    /// <summary>event_types: the events the app receives, as it adds them on the console; both calendar events unless told.</summary>
    private static List<string> ReadEventTypes(JsonElement body)
    {
        if (!body.TryGetProperty("event_types", out var value) || value.ValueKind == JsonValueKind.Null)
            return [EventTypes.EventChanged, EventTypes.CalendarChanged];
        if (value.ValueKind != JsonValueKind.Array) throw new FeishuException(Invalid, "event_types must be an array of event types");
        var types = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !EventTypes.All.Contains(item.GetString()))
                throw new FeishuException(Invalid, $"event_types may hold {string.Join(", ", EventTypes.All)}");
            types.Add(item.GetString()!);
        }
        return types.Distinct().ToList();
    }

    private static EventSettingsView View(AppEventSettingsRecord s) =>
        new(s.AppId, s.RequestUrl, s.VerificationToken, s.EncryptKeyProtected is not null,
            s.EventTypes.Split(' ', StringSplitOptions.RemoveEmptyEntries), s.VerifiedAt);

    private static FeishuJsonResult<Envelope<T>> Ok<T>(T data, System.Text.Json.Serialization.Metadata.JsonTypeInfo<Envelope<T>> type) =>
        FeishuJson.Result(Envelope.Success(data), type);
}
