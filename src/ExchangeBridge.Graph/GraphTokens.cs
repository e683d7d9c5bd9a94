using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using ExchangeBridge.Core.Exchange;
using Microsoft.Identity.Client;
using Microsoft.Kiota.Abstractions.Authentication;

namespace ExchangeBridge.Graph;

/// <summary>
/// App-only tokens (OAuth 2.0 client credentials) through MSAL, one confidential client per authority, client id and
/// credential, so MSAL's in-memory cache serves repeated calls until a token nears expiry. The credential is a client
/// secret or a certificate (MSAL then signs a client assertion with its private key). Authority validation and instance
/// discovery are off because the authority may be a simulator's (MSAL still insists on HTTPS).
/// </summary>
internal sealed class GraphTokens(HttpClient http)
{
    private readonly ConcurrentDictionary<string, IConfidentialClientApplication> _apps = new();
    private readonly MsalHttpClients _httpClients = new(http);

    public async Task<string> AcquireAsync(ExchangeAdminAccount admin, bool forceRefresh, CancellationToken cancellationToken)
    {
        var authority = GraphEndpoints.Authority(admin);
        var clientId = GraphEndpoints.ClientOf(admin);
        var key = $"{authority}\n{clientId}\n{admin.Credential}\n{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(admin.Secret)))}";
        var app = _apps.GetOrAdd(key, _ => WithCredential(ConfidentialClientApplicationBuilder.Create(clientId), admin)
            .WithAuthority(authority, validateAuthority: false)
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(_httpClients)
            .Build());
        var result = await app.AcquireTokenForClient([GraphEndpoints.Scope(admin)])
            .WithForceRefresh(forceRefresh)
            .ExecuteAsync(cancellationToken);
        return result.AccessToken;
    }

    private static ConfidentialClientApplicationBuilder WithCredential(ConfidentialClientApplicationBuilder builder, ExchangeAdminAccount admin) =>
        admin.Credential == AdminCredentialKind.Certificate
            ? builder.WithCertificate(GraphCertificates.FromPem(admin.Secret))
            : builder.WithClientSecret(admin.Secret);

    private sealed class MsalHttpClients(HttpClient http) : IMsalHttpClientFactory
    {
        public HttpClient GetHttpClient() => http;
    }
}

/// <summary>Hands Kiota the admin account's token, and only for the endpoint's own host (a next link elsewhere gets none).</summary>
internal sealed class AdminTokenProvider(GraphTokens tokens, ExchangeAdminAccount admin, bool forceRefresh) : IAccessTokenProvider
{
    public AllowedHostsValidator AllowedHostsValidator { get; } = new([admin.Endpoint.Host]);

    public Task<string> GetAuthorizationTokenAsync(Uri uri, Dictionary<string, object>? additionalAuthenticationContext = null,
        CancellationToken cancellationToken = default) =>
        AllowedHostsValidator.IsUrlHostValid(uri) ? tokens.AcquireAsync(admin, forceRefresh, cancellationToken) : Task.FromResult("");
}

/// <summary>An app's certificate credential as operators hand it over: the certificate and its unencrypted RSA private key in PEM.</summary>
public static class GraphCertificates
{
    /// <exception cref="ExchangeConnectorException">Permanent, when the text is not such a pair.</exception>
    public static X509Certificate2 FromPem(string pem)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(pem, pem);
        }
        catch (CryptographicException e)
        {
            throw new ExchangeConnectorException(ExchangeFailureKind.Permanent,
                $"Graph: the client certificate is not a PEM certificate with its unencrypted private key ({e.Message})", inner: e);
        }
        using var key = certificate.GetRSAPrivateKey();
        return key is not null
            ? certificate
            : throw new ExchangeConnectorException(ExchangeFailureKind.Permanent, "Graph: the client certificate's key must be RSA");
    }
}
