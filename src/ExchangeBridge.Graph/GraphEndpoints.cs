using ExchangeBridge.Core.Exchange;

namespace ExchangeBridge.Graph;

/// <summary>
/// Where a Graph admin account's requests and tokens go. The account's endpoint is the Graph base URL
/// (<c>https://graph.microsoft.com/v1.0</c>, a national cloud's, or a simulator's). The token authority follows from it:
/// Microsoft's clouds use their login host (<c>https://login.microsoftonline.com/{tenant}</c> for the global service);
/// any other host is its own authority (<c>https://host:port/{tenant}</c>), answering the client-credentials grant at
/// <c>/{tenant}/oauth2/v2.0/token</c>, which is how the simulator is reached. The scope is the endpoint's origin plus
/// <c>/.default</c>, i.e. <c>https://graph.microsoft.com/.default</c> in production.
/// </summary>
public static class GraphEndpoints
{
    public const string GlobalBaseUrl = "https://graph.microsoft.com/v1.0";

    private static readonly Dictionary<string, string> LoginHosts = new(StringComparer.OrdinalIgnoreCase)
    {
        ["graph.microsoft.com"] = "https://login.microsoftonline.com",
        ["graph.microsoft.us"] = "https://login.microsoftonline.us",
        ["dod-graph.microsoft.us"] = "https://login.microsoftonline.us",
        ["microsoftgraph.chinacloudapi.cn"] = "https://login.chinacloudapi.cn",
    };

    /// <summary>The base URL requests are built on; an endpoint given as a bare host means v1.0 on it.</summary>
    public static string BaseUrl(ExchangeAdminAccount admin) =>
        admin.Endpoint.AbsolutePath is "" or "/" ? new Uri(admin.Endpoint, "/v1.0").ToString() : admin.Endpoint.ToString().TrimEnd('/');

    public static string Authority(ExchangeAdminAccount admin) =>
        $"{(LoginHosts.TryGetValue(admin.Endpoint.Host, out var login) ? login : Origin(admin.Endpoint))}/{TenantOf(admin)}";

    public static string Scope(ExchangeAdminAccount admin) => $"{Origin(admin.Endpoint)}/.default";

    public static string TenantOf(ExchangeAdminAccount admin) =>
        admin.GraphTenantId is { Length: > 0 } tenant
            ? tenant
            : throw new ExchangeConnectorException(ExchangeFailureKind.Permanent, "Graph: the admin account has no graph_tenant_id");

    public static string ClientOf(ExchangeAdminAccount admin) =>
        admin.GraphClientId is { Length: > 0 } client
            ? client
            : throw new ExchangeConnectorException(ExchangeFailureKind.Permanent, "Graph: the admin account has no graph_client_id");

    private static string Origin(Uri endpoint) => endpoint.GetLeftPart(UriPartial.Authority);
}
