using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>
/// Checks a client assertion the way Microsoft's documentation of certificate credentials describes it: a JWT signed
/// RS256 or PS256 with the private key of a certificate registered for the app, named in its header by <c>x5t</c> (the
/// SHA-1 thumbprint) or <c>x5t#S256</c> (SHA-256), base64url; its <c>aud</c> is the token endpoint, <c>iss</c> and
/// <c>sub</c> the client id, and now lies between <c>nbf</c> and <c>exp</c>. A refusal comes with the AADSTS code.
/// </summary>
internal static class GraphClientAssertion
{
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    /// <returns>null when the assertion is good; else the AADSTS code and its description.</returns>
    public static (int Code, string Description)? Check(string assertion, GraphApp app, string tokenEndpoint, DateTimeOffset now)
    {
        if (app.Certificate is not { } certificate) return (7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
        var parts = assertion.Split('.');
        JsonElement header, claims;
        byte[] signature;
        try
        {
            if (parts.Length != 3) throw new FormatException("not three parts");
            header = JsonDocument.Parse(Base64Url(parts[0])).RootElement;
            claims = JsonDocument.Parse(Base64Url(parts[1])).RootElement;
            signature = Base64Url(parts[2]);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return (50027, "JWT token is invalid or malformed.");
        }

        var named = Text(header, "x5t#S256") is { } s256 ? s256 == Base64Url(certificate.GetCertHash(HashAlgorithmName.SHA256))
            : Text(header, "x5t") is { } x5t && x5t == Base64Url(certificate.GetCertHash(HashAlgorithmName.SHA1));
        var padding = Text(header, "alg") switch
        {
            "RS256" => RSASignaturePadding.Pkcs1,
            "PS256" => RSASignaturePadding.Pss,
            _ => null,
        };
        using var key = certificate.GetRSAPublicKey();
        if (!named || padding is null || key is null ||
            !key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), signature, HashAlgorithmName.SHA256, padding))
            return (700027, "Client assertion failed signature validation.");
        if (Text(claims, "iss") != app.ClientId || Text(claims, "sub") != app.ClientId)
            return (700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
        if (!string.Equals(Text(claims, "aud"), tokenEndpoint, StringComparison.OrdinalIgnoreCase))
            return (50013, $"Assertion audience claim does not match the required value. The audience in the assertion was '{Text(claims, "aud")}' and the expected audience is '{tokenEndpoint}'.");
        if (Seconds(claims, "exp") is not { } exp || now > exp + Skew || Seconds(claims, "nbf") is { } nbf && now < nbf - Skew)
            return (700024, "Client assertion is not within its valid time range.");
        return null;
    }

    private static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A NumericDate; MSAL.NET writes it as a string of digits, which Entra ID accepts too.</summary>
    private static DateTimeOffset? Seconds(JsonElement json, string name)
    {
        if (!json.TryGetProperty(name, out var value)) return null;
        var seconds = value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var n) => n,
            JsonValueKind.String when long.TryParse(value.GetString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) => n,
            _ => (long?)null,
        };
        return seconds is { } s ? DateTimeOffset.FromUnixTimeSeconds(s) : null;
    }

    private static byte[] Base64Url(string text) => Convert.FromBase64String(
        text.Replace('-', '+').Replace('_', '/').PadRight(text.Length + (4 - text.Length % 4) % 4, '='));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
