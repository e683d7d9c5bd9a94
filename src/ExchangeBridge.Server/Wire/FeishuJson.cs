using System.Text.Json;
using System.Text.Json.Serialization;

namespace ExchangeBridge.Server.Wire;

/// <summary>The success envelope every Open API answer shares.</summary>
public sealed record Envelope<T>(int Code, string Msg, T Data);

/// <summary>The platform's "data" for an empty success (DELETE).</summary>
public sealed record EmptyData;

public static class Envelope
{
    public static Envelope<T> Success<T>(T data) => new(0, "success", data);
}

/// <summary>
/// The wire's JSON: snake_case, nulls omitted, source-generated so the hot paths do no reflection.
/// Every type that crosses the wire is listed here.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Envelope<EmptyData>))]
[JsonSerializable(typeof(Envelope<Bindings.ExchangeBindingData>))]
[JsonSerializable(typeof(Identity.TenantAccessTokenResponse))]
[JsonSerializable(typeof(Identity.AppAccessTokenResponse))]
[JsonSerializable(typeof(Envelope<Identity.OidcTokenData>))]
[JsonSerializable(typeof(Identity.OAuthTokenResponse))]
[JsonSerializable(typeof(Identity.OAuthErrorResponse))]
[JsonSerializable(typeof(Envelope<Admin.TenantView>))]
[JsonSerializable(typeof(Envelope<Admin.TenantList>))]
[JsonSerializable(typeof(Envelope<Admin.AppCreated>))]
[JsonSerializable(typeof(Envelope<Admin.UserView>))]
[JsonSerializable(typeof(Envelope<Admin.AdminAccountView>))]
[JsonSerializable(typeof(Envelope<Admin.AuthorizationCodeView>))]
[JsonSerializable(typeof(Hosting.BootstrapFile))]
[JsonSerializable(typeof(Calendars.CalendarEvent))]
[JsonSerializable(typeof(Envelope<Calendars.CalendarListData>))]
[JsonSerializable(typeof(Envelope<Calendars.CalendarView>))]
[JsonSerializable(typeof(Envelope<Calendars.EventListData>))]
[JsonSerializable(typeof(Envelope<Calendars.EventData>))]
[JsonSerializable(typeof(Envelope<Admin.BindingDiagnostics>))]
public sealed partial class FeishuJsonContext : JsonSerializerContext;

public static class FeishuJson
{
    public static JsonSerializerOptions Options => FeishuJsonContext.Default.Options;
}
