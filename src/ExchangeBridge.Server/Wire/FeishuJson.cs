using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

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
public sealed partial class FeishuJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context every answer is written with: text goes out as the platform writes it, UTF-8 as is and '+', '&amp;',
    /// '&lt;', '&gt;', '\'' unescaped (the default encoder writes a base64 id's '+' as \u002B and every Chinese character as
    /// \uXXXX). Safe here: answers are application/json, never embedded in HTML.
    /// </summary>
    public static FeishuJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = FeishuJson.TextEncoder,
    });
}

public static class FeishuJson
{
    public const string ContentType = "application/json; charset=utf-8";

    public static JsonSerializerOptions Options => FeishuJsonContext.Wire.Options;

    /// <summary>How the wire escapes text: only what JSON requires (see <see cref="FeishuJsonContext.Wire"/>).</summary>
    public static readonly System.Text.Encodings.Web.JavaScriptEncoder TextEncoder =
        System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>Options for a hand-written answer (<see cref="Utf8JsonWriter"/>), escaping as the serialised ones do.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = TextEncoder };

    /// <summary>A 200 answer, serialised whole so it goes out with its length rather than chunked.</summary>
    public static Task WriteAsync<T>(HttpResponse response, T answer, JsonTypeInfo<T> type, CancellationToken ct) =>
        WriteAsync(response, JsonSerializer.SerializeToUtf8Bytes(answer, type), ct);

    /// <summary>A 200 answer already serialised (a cached one), with its length so it needs no chunking.</summary>
    public static Task WriteAsync(HttpResponse response, byte[] json, CancellationToken ct)
    {
        response.ContentType = ContentType;
        response.ContentLength = json.Length;
        return response.Body.WriteAsync(json, ct).AsTask();
    }
}
