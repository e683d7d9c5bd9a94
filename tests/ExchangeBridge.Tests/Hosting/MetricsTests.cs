using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Hosting;

/// <summary>
/// OpenTelemetry listens to every meter of our name in the process, so another test's server running alongside would
/// add its bindings to these counts: this class runs alone.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsCollection;

[Collection(nameof(MetricsTests))]
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_count_bindings_and_requests_without_naming_tenants()
    {
        await using var server = new TestServer(settings: new Dictionary<string, string?>
        {
            ["OpenTelemetry:Metrics:Prometheus:ScrapeResponseCacheDurationMilliseconds"] = "0",
        });
        var token = await server.AdminUserTokenAsync();
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/calendar/v4/exchange_bindings",
            """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""",
            token));

        var metrics = await (await server.SendAsync(HttpMethod.Get, "/metrics")).Content.ReadAsStringAsync();
        Assert.Matches(@"exchangebridge_bindings_created(_total)?(\{[^}]*\})? 1", metrics);
        Assert.Contains("http_server_request_duration", metrics);
        Assert.DoesNotContain(server.Bootstrap.TenantKey, metrics);
        Assert.DoesNotContain("email_account_example", metrics);
    }
}
