using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ExchangeBridge.Core.Exchange;
using Microsoft.Identity.Client;
using Microsoft.Kiota.Abstractions.Authentication;

namespace ExchangeBridge.Graph;

/// <summary>
/// App-only tokens (OAuth 2.0 client credentials) through MSAL, one confidential client per authority, client id and
/// secret, so MSAL's in-memory cache serves repeated calls until a token nears expiry. Authority validation and instance
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
        var key = $"{authority}\n{clientId}\n{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(admin.Secret)))}";
        var app = _apps.GetOrAdd(key, _ => ConfidentialClientApplicationBuilder.Create(clientId)
            .WithClientSecret(admin.Secret)
            .WithAuthority(authority, validateAuthority: false)
            .WithInstanceDiscovery(false)
            .WithHttpClientFactory(_httpClients)
            .Build());
        var result = await app.AcquireTokenForClient([GraphEndpoints.Scope(admin)])
            .WithForceRefresh(forceRefresh)
            .ExecuteAsync(cancellationToken);
        return result.AccessToken;
    }

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
