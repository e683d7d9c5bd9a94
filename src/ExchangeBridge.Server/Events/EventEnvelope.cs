using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExchangeBridge.Server.Wire;

namespace ExchangeBridge.Server.Events;

/// <summary>
/// An event as the platform sends it to an app's request URL (checked against the official SDKs' receiving code: the
/// Node SDK's AESCipher and RequestHandle.checkIsEventValidated, the Go SDK's event dispatcher):
/// <list type="bullet">
/// <item>schema 2.0: <c>{"schema":"2.0","header":{event_id, event_type, create_time (ms, text), token, app_id, tenant_key},"event":{…}}</c>;</item>
/// <item>with an encrypt key, the body is <c>{"encrypt":"…"}</c>: AES-256-CBC with key SHA-256(encrypt key), PKCS#7
/// padding, a random 16-byte IV before the ciphertext, all in base64;</item>
/// <item>and signed: <c>X-Lark-Signature</c> = hex SHA-256(timestamp + nonce + encrypt key + body), beside
/// <c>X-Lark-Request-Timestamp</c> (seconds) and <c>X-Lark-Request-Nonce</c>. The Node SDK hashes JSON.stringify of
/// the parsed body rather than the bytes received, so the signed body is written as JSON.stringify would write it:
/// <c>{"encrypt":"…"}</c> without spaces, base64 needing no escapes. Without an encrypt key nothing is signed (the SDKs
/// check a signature only with a key).</item>
/// </list>
/// </summary>
public static class EventEnvelope
{
    public const string TimestampHeader = "X-Lark-Request-Timestamp";
    public const string NonceHeader = "X-Lark-Request-Nonce";
    public const string SignatureHeader = "X-Lark-Signature";

    /// <summary>The schema 2.0 envelope of one delivery, its event body as stored.</summary>
    public static string Schema2(ClaimedDelivery delivery) => JsonObject(w =>
    {
        w.WriteString("schema", "2.0");
        w.WriteStartObject("header");
        w.WriteString("event_id", delivery.EventId);
        w.WriteString("event_type", delivery.EventType);
        w.WriteString("create_time", delivery.CreateTime.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteString("token", delivery.VerificationToken);
        w.WriteString("app_id", delivery.AppId);
        w.WriteString("tenant_key", delivery.TenantKey);
        w.WriteEndObject();
        w.WritePropertyName("event");
        w.WriteRawValue(delivery.EventBody, skipInputValidation: true);
    });

    /// <summary>The URL verification request the platform sends when a request URL is saved.</summary>
    public static string Challenge(string challenge, string verificationToken) => JsonObject(w =>
    {
        w.WriteString("challenge", challenge);
        w.WriteString("token", verificationToken);
        w.WriteString("type", "url_verification");
    });

    /// <summary>What goes on the wire: the plain JSON, or <c>{"encrypt":"…"}</c> when the app set an encrypt key.</summary>
    public static string Body(string plain, string? encryptKey) =>
        encryptKey is null ? plain : $$"""{"encrypt":"{{Encrypt(plain, encryptKey)}}"}""";

    public static string Encrypt(string plain, string encryptKey)
    {
        using var aes = Aes.Create();
        aes.Key = SHA256.HashData(Encoding.UTF8.GetBytes(encryptKey));
        aes.GenerateIV();
        var cipher = aes.EncryptCbc(Encoding.UTF8.GetBytes(plain), aes.IV, PaddingMode.PKCS7);
        return Convert.ToBase64String(aes.IV.Concat(cipher).ToArray());
    }

    /// <summary>The inverse of <see cref="Encrypt"/> (the tests read what was sent with it, as a receiver does).</summary>
    public static string Decrypt(string encrypted, string encryptKey)
    {
        var bytes = Convert.FromBase64String(encrypted);
        using var aes = Aes.Create();
        aes.Key = SHA256.HashData(Encoding.UTF8.GetBytes(encryptKey));
        return Encoding.UTF8.GetString(aes.DecryptCbc(bytes.AsSpan(16), bytes.AsSpan(0, 16), PaddingMode.PKCS7));
    }

    public static string Signature(string timestamp, string nonce, string encryptKey, string body) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(timestamp + nonce + encryptKey + body)));

    /// <summary>A JSON object written by <paramref name="write"/>, escaped as every answer of ours is.</summary>
    public static string JsonObject(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, FeishuJson.WriterOptions))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
