using System.Collections.Concurrent;
using ExchangeBridge.Server.Identity;
using ExchangeBridge.Server.Storage;
using ExchangeBridge.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.Extensions.DependencyInjection;

namespace ExchangeBridge.Tests.Hosting;

/// <summary>
/// One way to every route: a rule added after routing (middleware, an endpoint filter) holds on every call, the
/// answers an endpoint gives from memory and the token endpoints included.
/// </summary>
public sealed class RequestPipelineTests
{
    private const string BindingsPath = "/open-apis/calendar/v4/exchange_bindings";
    private const string DocumentedId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";
    private const string CreateBody =
        """{"admin_account":"email_admin_example@outlook.com","exchange_account":"email_account_example@outlook.com","user_id":"ou_xxxxxxxxxxxxxxxxxx"}""";

    [Fact]
    public async Task A_filter_added_to_the_routed_GET_applies_to_its_cached_answers_too()
    {
        var filtered = 0;
        await using var server = new TestServer(afterPipeline: app =>
        {
            var routes = app.MapGroup("");
            routes.AddEndpointFilter(async (invocation, next) =>
            {
                var http = invocation.HttpContext;
                if (!HttpMethods.IsGet(http.Request.Method) || !http.Request.Path.StartsWithSegments(BindingsPath)) return await next(invocation);
                Interlocked.Increment(ref filtered);
                return http.Request.Headers.ContainsKey("X-Test-Refuse") ? Results.StatusCode(StatusCodes.Status418ImATeapot) : await next(invocation);
            });
            return routes;
        });
        var token = await server.AdminUserTokenAsync();
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Post, BindingsPath, CreateBody, token));

        // The first read keeps the answer (on SQLite; PostgreSQL instances keep none), the second is answered from it.
        for (var i = 0; i < 2; i++)
            await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}", null, token));
        Assert.Equal(TestDatabases.OnPostgres ? 0 : 1, server.Services.GetRequiredService<BindingReadCache>().Count);
        Assert.Equal(2, filtered);

        var refused = new HttpRequestMessage(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}");
        refused.Headers.Authorization = new("Bearer", token);
        refused.Headers.Add("X-Test-Refuse", "yes");
        Assert.Equal(418, (int)(await server.Http.SendAsync(refused)).StatusCode);
        Assert.Equal(3, filtered);
    }

    [Fact]
    public async Task A_requirement_added_to_the_routed_GET_holds_for_a_caller_and_answer_from_the_caches()
    {
        await using var server = new TestServer(afterPipeline: app =>
        {
            var routes = app.MapGroup("");
            // A rule no Feishu policy knows, added to every route: a caller admitted from the token cache must meet it too.
            routes.RequireAuthorization(policy => policy.RequireAssertion(authorization =>
                authorization.Resource is not HttpContext http || !http.Request.Headers.ContainsKey("X-Test-Refuse")));
            return routes;
        });
        var token = await server.AdminUserTokenAsync();
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Post, BindingsPath, CreateBody, token));
        for (var i = 0; i < 2; i++)
            await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}", null, token));
        Assert.True(server.Services.GetRequiredService<TokenService>().TryGetCachedCaller(token, out _));
        Assert.Equal(TestDatabases.OnPostgres ? 0 : 1, server.Services.GetRequiredService<BindingReadCache>().Count);

        var refused = new HttpRequestMessage(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}");
        refused.Headers.Authorization = new("Bearer", token);
        refused.Headers.Add("X-Test-Refuse", "yes");
        Assert.Equal(403, (int)(await server.Http.SendAsync(refused)).StatusCode);
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}", null, token));
    }

    [Fact]
    public async Task A_cached_caller_and_the_token_endpoints_are_served_without_a_request_service_scope()
    {
        bool? scoped = null;
        await using var server = new TestServer(afterPipeline: app =>
        {
            app.Use(async (context, next) =>
            {
                await next(context);
                // The request's services feature is made when something first asks for RequestServices, which opens the
                // request's scope: the framework's authentication and authorisation middleware and generated binders do.
                scoped = context.Features.Get<IServiceProvidersFeature>() is not null;
            });
            return app;
        });
        async Task<bool> ScopedAsync(HttpMethod method, string path, string? body = null, string? token = null)
        {
            await JsonAssert.SuccessAsync(await server.SendAsync(method, path, body, token));
            return scoped!.Value;
        }

        var token = await server.AdminUserTokenAsync();
        Assert.True(await ScopedAsync(HttpMethod.Post, BindingsPath, CreateBody, token));
        var tokens = server.Services.GetRequiredService<TokenService>();
        Assert.True(tokens.TryGetCachedCaller(token, out _));
        Assert.False(await ScopedAsync(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}", token: token));
        Assert.False(await ScopedAsync(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}", token: token));

        // A caller the cache does not hold is the framework's to authenticate, in the request's scope.
        await server.Services.GetRequiredService<IDatabase>().WriteAsync(Touched.Rows(TouchedKinds.Tokens), (_, _, _) => Task.FromResult(0));
        Assert.False(tokens.TryGetCachedCaller(token, out _));
        Assert.True(await ScopedAsync(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}", token: token));

        var credentials = $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"{{server.Bootstrap.AppSecret}}"}""";
        Assert.False(await ScopedAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", credentials));
        Assert.False(await ScopedAsync(HttpMethod.Post, "/open-apis/auth/v3/app_access_token/internal", credentials));
    }

    [Fact]
    public async Task A_flood_of_unrouted_requests_is_answered_without_a_request_service_scope()
    {
        var scoped = new ConcurrentQueue<bool>();
        await using var server = new TestServer(services: services => services.AddSingleton<IStartupFilter>(new ScopeWatch(scoped)));
        var token = await server.AdminUserTokenAsync();
        scoped.Clear();

        // Paths nobody serves, with a token and without, and a method a path does not serve: each the gateway's 404,
        // decided without the framework's authentication (no policy asks for a scheme, none is the default).
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(404, (int)(await server.SendAsync(HttpMethod.Get, $"/open-apis/no_such_api/{i}", null, token)).StatusCode);
            Assert.Equal(404, (int)(await server.SendAsync(HttpMethod.Post, $"/wp-login.php?attempt={i}", "{}")).StatusCode);
        }
        Assert.Equal(404, (int)(await server.SendAsync(HttpMethod.Put, $"{BindingsPath}/{DocumentedId}", CreateBody, token)).StatusCode);

        Assert.Equal(Enumerable.Repeat(false, 21), scoped);
    }

    /// <summary>Notes, after each request, whether it opened the request's service scope (see the test above it).</summary>
    private sealed class ScopeWatch(ConcurrentQueue<bool> scoped) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, following) =>
            {
                await following(context);
                scoped.Enqueue(context.Features.Get<IServiceProvidersFeature>() is not null);
            });
            next(app);
        };
    }

    [Fact]
    public async Task The_busiest_routes_are_matched_without_a_rival_candidate()
    {
        // A rival candidate (a fallback route's catch-all matches every path) makes routing copy the path into route values
        // and test the rival's constraints on every request before choosing.
        var weighed = new CandidatesWeighed();
        await using var server = new TestServer(services: services => services.AddSingleton<MatcherPolicy>(weighed));
        var token = await server.AdminUserTokenAsync();
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Post, BindingsPath, CreateBody, token));
        var credentials = $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"{{server.Bootstrap.AppSecret}}"}""";
        weighed.Requests.Clear();

        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}", null, token));
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Get, $"{BindingsPath}/{DocumentedId}", null, token));
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal", credentials));
        await JsonAssert.SuccessAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/app_access_token/internal", credentials));
        Assert.Equal(200, (int)(await server.SendAsync(HttpMethod.Get, "/healthz")).StatusCode);

        Assert.Equal([("GetExchangeBinding", 1), ("GetExchangeBinding", 1), ("IssueTenantAccessToken", 1), ("IssueAppAccessToken", 1), ("Health", 1)],
            weighed.Requests);
    }

    /// <summary>Notes, for each request, the endpoint routing found first and how many it weighed; it changes nothing.</summary>
    private sealed class CandidatesWeighed : MatcherPolicy, IEndpointSelectorPolicy
    {
        public ConcurrentQueue<(string Found, int Weighed)> Requests { get; } = new();

        public override int Order => 0;

        public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) => true;

        public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
        {
            var found = Enumerable.Range(0, candidates.Count).Where(candidates.IsValidCandidate)
                .Select(i => candidates[i].Endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "(unnamed)").FirstOrDefault();
            Requests.Enqueue((found ?? "(none)", candidates.Count));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Middleware_after_routing_sees_the_token_endpoints_and_health()
    {
        var seen = new ConcurrentQueue<string>();
        await using var server = new TestServer(afterPipeline: app =>
        {
            app.Use((context, next) =>
            {
                seen.Enqueue(context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? "(none)");
                return next(context);
            });
            return app;
        });
        var appToken = await server.PostJsonAsync("/open-apis/auth/v3/app_access_token/internal",
            new { app_id = server.Bootstrap.AppId, app_secret = server.Bootstrap.AppSecret });
        Assert.Equal(0, appToken["code"]!.GetValue<int>());
        await server.UserTokensAsync(); // the operator's code, the tenant token, the code's exchange
        var oauth = await server.PostJsonAsync("/open-apis/authen/v2/oauth/token", new { grant_type = "refresh_token" });
        Assert.NotEqual(0, oauth["code"]!.GetValue<int>());
        Assert.Equal(200, (int)(await server.SendAsync(HttpMethod.Get, "/healthz")).StatusCode);

        Assert.Equal(["IssueAppAccessToken", "MintAuthorizationCode", "IssueTenantAccessToken", "OidcAccessToken", "OAuthToken", "Health"], seen);
    }

    [Fact]
    public async Task The_token_endpoint_answers_alike_on_every_spelling_of_its_path_and_keeps_its_route_in_metrics()
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

        // Refusals come from the endpoint, in its shape; other methods meet routing's answer.
        await JsonAssert.ErrorAsync(await server.SendAsync(HttpMethod.Post, "/open-apis/auth/v3/tenant_access_token/internal",
            $$"""{"app_id":"{{server.Bootstrap.AppId}}","app_secret":"wrong"}"""), 200, 10014);
        Assert.Equal(404, (int)(await server.SendAsync(HttpMethod.Get, "/open-apis/auth/v3/tenant_access_token/internal")).StatusCode);

        var metrics = await (await server.SendAsync(HttpMethod.Get, "/metrics")).Content.ReadAsStringAsync();
        Assert.Contains("""http_route="/open-apis/auth/v3/tenant_access_token/internal""", metrics);
    }
}
