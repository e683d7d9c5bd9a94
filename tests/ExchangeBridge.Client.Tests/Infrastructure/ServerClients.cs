using System.Globalization;

namespace ExchangeBridge.Client.Tests.Infrastructure;

/// <summary>The server process as this project's clients see it: the bootstrap app, the operator key, its metrics.</summary>
public static class ServerClients
{
    private const string CreateBindingRoute = "/open-apis/calendar/v4/exchange_bindings/";

    /// <summary>Options for a client of this server as its bootstrap app (user credentials left to the test).</summary>
    public static FeishuClientOptions ClientOptions(this ServerProcess server, HttpMessageHandler? transport = null) =>
        new() { BaseAddress = server.BaseAddress, AppId = server.Bootstrap.AppId, AppSecret = server.Bootstrap.AppSecret, Transport = transport };

    public static ExchangeBridgeOperatorClient OperatorClient(this ServerProcess server) =>
        new(server.Bootstrap.OperatorKey, new FeishuClientOptions { BaseAddress = server.BaseAddress });

    /// <summary>The super administrator's tokens, through a code minted by the operator API (Feishu's login page, here).</summary>
    public static async Task<UserTokens> SuperAdminTokensAsync(this ServerProcess server)
    {
        using var client = new FeishuClient(server.ClientOptions());
        return await client.ExchangeAuthorizationCodeAsync(await server.MintCodeAsync(server.Bootstrap.AdminOpenId));
    }

    /// <summary>A client acting as the super administrator, its user token obtained from a fresh code.</summary>
    public static async Task<FeishuClient> SuperAdminClientAsync(this ServerProcess server, FeishuClientOptions? options = null)
    {
        var client = new FeishuClient(options ?? server.ClientOptions());
        await client.ExchangeAuthorizationCodeAsync(await server.MintCodeAsync(server.Bootstrap.AdminOpenId));
        return client;
    }

    public static async Task<string> MintCodeAsync(this ServerProcess server, string openId)
    {
        using var operatorClient = server.OperatorClient();
        return (await operatorClient.MintAuthorizationCodeAsync(new MintAuthorizationCodeRequest(server.Bootstrap.AppId, openId))).Code;
    }

    /// <summary>Creates users of the bootstrap tenant with these user_ids (a few at a time, as an import script would).</summary>
    public static async Task CreateUsersAsync(this ServerProcess server, IEnumerable<string> userIds)
    {
        using var operatorClient = server.OperatorClient();
        await Parallel.ForEachAsync(userIds, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (userId, ct) =>
            await operatorClient.CreateUserAsync(server.Bootstrap.TenantKey, new CreateUserRequest("Employee " + userId, userId), ct));
    }

    /// <summary>Bindings this server inserted since it started (a create answering an existing binding does not count).</summary>
    public static Task<long> BindingsCreatedAsync(this ServerProcess server) =>
        server.MetricAsync(l => l.StartsWith("exchangebridge_bindings_created", StringComparison.Ordinal));

    /// <summary>Create requests this server answered since it started, whatever their outcome.</summary>
    public static Task<long> BindingCreateRequestsAsync(this ServerProcess server) => server.MetricAsync(l =>
        l.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
        && l.Contains("http_request_method=\"POST\"", StringComparison.Ordinal)
        && l.Contains($"http_route=\"{CreateBindingRoute}\"", StringComparison.Ordinal));

    /// <summary>The sum of the Prometheus samples whose lines match.</summary>
    private static async Task<long> MetricAsync(this ServerProcess server, Func<string, bool> match)
    {
        var metrics = await server.Http.GetStringAsync("/metrics");
        return metrics.Split('\n').Where(l => !l.StartsWith('#') && match(l))
            .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
    }
}
