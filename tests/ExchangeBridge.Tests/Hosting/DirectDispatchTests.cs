using ExchangeBridge.Server.Hosting;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace ExchangeBridge.Tests.Hosting;

public sealed class DirectDispatchTests
{
    private static RouteEndpoint Endpoint(string pattern, string method, params object[] metadata)
    {
        var builder = new RouteEndpointBuilder(_ => Task.CompletedTask, RoutePatternFactory.Parse(pattern), 0);
        builder.Metadata.Add(DirectDispatch.Marker.Instance);
        builder.Metadata.Add(new HttpMethodMetadata([method]));
        foreach (var item in metadata) builder.Metadata.Add(item);
        return (RouteEndpoint)builder.Build();
    }

    [Fact]
    public void Only_fixed_paths_without_authorisation_are_dispatched_before_routing()
    {
        var (posts, gets) = DirectDispatch.Build(new DefaultEndpointDataSource(
            Endpoint("/open-apis/auth/v3/tenant_access_token/internal", "POST"), Endpoint("/healthz", "GET")));
        Assert.True(posts.ContainsKey("/OPEN-APIS/auth/v3/tenant_access_token/internal"));
        Assert.True(gets.ContainsKey("/healthz"));
        Assert.False(posts.ContainsKey("/healthz"));

        Assert.Throws<InvalidOperationException>(() => DirectDispatch.Build(new DefaultEndpointDataSource(Endpoint("/bindings/{id}", "GET"))));
        Assert.Throws<InvalidOperationException>(() => DirectDispatch.Build(new DefaultEndpointDataSource(
            Endpoint("/bindings", "GET", new AuthorizeAttribute("policy")))));
        Assert.Throws<InvalidOperationException>(() => DirectDispatch.Build(new DefaultEndpointDataSource(Endpoint("/bindings", "DELETE"))));
    }

    [Fact]
    public async Task The_token_endpoint_answers_alike_dispatched_or_routed_and_keeps_its_route_in_metrics()
    {
        await using var server = new TestServer();
        var body = $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"{{server.Bootstrap.AppSecret}}"}""";
        var tokens = new List<string>();
        foreach (var path in new[] { "/open-apis/auth/v3/tenant_access_token/internal", "/open-apis/auth/v3/tenant_access_token/internal/",
                     "/Open-Apis/auth/v3/tenant_access_token/internal" })
        {
            var answer = await server.SendAsync(HttpMethod.Post, path, body);
            var json = await JsonAssert.SuccessAsync(answer);
            Assert.Equal("ok", json["msg"]!.GetValue<string>());
            Assert.Single(answer.Headers.GetValues("X-Tt-Logid"));
            tokens.Add(json["tenant_access_token"]!.GetValue<string>());
        }
        Assert.Single(tokens.Distinct());

        // Refusals still come from the endpoint, in its shape, and other methods still meet routing's answer.
        await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal",
            $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"wrong"}"""), 200, 10014);
        Assert.Equal(404, (int)(await server.SendAsync(HttpMethod.Get, "/open-apis/auth/v3/tenant_access_token/internal")).StatusCode);

        var metrics = await (await server.SendAsync(HttpMethod.Get, "/metrics")).Content.ReadAsStringAsync();
        Assert.Contains("""http_route="/open-apis/auth/v3/tenant_access_token/internal""", metrics);
    }
}
