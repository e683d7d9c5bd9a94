using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace ExchangeBridge.ExchangeSimulator;

/// <summary>Graph app registrations (client credentials) and the bearer tokens the simulator's token endpoint issued.</summary>
public sealed partial class MailboxStore
{
    /// <summary>Issued tokens live this long, as Microsoft's (expires_in 3599).</summary>
    public static readonly TimeSpan GraphTokenLifetime = TimeSpan.FromSeconds(3599);

    private readonly ConcurrentDictionary<string, GraphApp> _graphApps = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (string AppKey, DateTimeOffset Expires)> _graphTokens = new();

    /// <summary>
    /// An app registration in a tenant with application permission to read calendars; <paramref name="mayAccess"/> null means
    /// every mailbox, a list stands for an application access policy that scopes it. Registering the same app again (a
    /// new secret, another scope) also revokes the tokens it was issued, so a test sees the change at once.
    /// </summary>
    public void AddGraphApp(string tenantId, string clientId, string secret, IEnumerable<string>? mayAccess = null) =>
        AddGraphApp(new GraphApp(tenantId, clientId, secret, null, mayAccess?.ToHashSet(StringComparer.OrdinalIgnoreCase)));

    /// <summary>
    /// The same with a certificate credential: the app proves itself with a client assertion (a JWT signed with the
    /// certificate's private key); only the public certificate is registered, as in Entra ID.
    /// </summary>
    public void AddGraphApp(string tenantId, string clientId, X509Certificate2 certificate, IEnumerable<string>? mayAccess = null) =>
        AddGraphApp(new GraphApp(tenantId, clientId, null, X509CertificateLoader.LoadCertificate(certificate.RawData),
            mayAccess?.ToHashSet(StringComparer.OrdinalIgnoreCase)));

    private void AddGraphApp(GraphApp app)
    {
        var key = AppKey(app.TenantId, app.ClientId);
        _graphApps[key] = app;
        foreach (var (token, issued) in _graphTokens)
            if (issued.AppKey == key) _graphTokens.TryRemove(token, out _);
    }

    internal bool IsKnownTenant(string tenantId) => _graphApps.Values.Any(a => string.Equals(a.TenantId, tenantId, StringComparison.OrdinalIgnoreCase));

    internal GraphApp? GraphAppOf(string tenantId, string clientId) => _graphApps.GetValueOrDefault(AppKey(tenantId, clientId));

    internal static bool SecretMatches(GraphApp app, string secret) =>
        app.Secret is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(app.Secret), Encoding.UTF8.GetBytes(secret));

    internal string IssueGraphToken(GraphApp app)
    {
        var token = "eyJ0eXAiOiJKV1Qi." + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _graphTokens[token] = (AppKey(app.TenantId, app.ClientId), DateTimeOffset.UtcNow + GraphTokenLifetime);
        return token;
    }

    /// <summary>The app a bearer token was issued to, while it is valid.</summary>
    internal GraphApp? GraphCaller(string token) =>
        _graphTokens.TryGetValue(token, out var issued) && issued.Expires > DateTimeOffset.UtcNow ? _graphApps.GetValueOrDefault(issued.AppKey) : null;

    private static string AppKey(string tenantId, string clientId) => $"{tenantId}\n{clientId}";
}

/// <summary>An app registration: a client secret or a certificate (its public part) as the credential.</summary>
internal sealed record GraphApp(string TenantId, string ClientId, string? Secret, X509Certificate2? Certificate, HashSet<string>? MayAccess)
{
    public bool MayRead(string mailbox) => MayAccess is null || MayAccess.Contains(mailbox);
}
